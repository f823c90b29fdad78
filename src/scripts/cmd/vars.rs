//! The variables a batch file runs with: `set` values in `setlocal` scopes,
//! the arguments of each `call`, `%errorlevel%`, delayed expansion.

use super::expand::{Lookup, Scope};
use std::collections::HashMap;

struct Env {
    /// Lower-cased names; `None` = cleared by the script (`set v=`).
    values: HashMap<String, Option<String>>,
    delayed: bool,
}

struct Frame {
    /// `%0`, `%1`, …
    args: Vec<String>,
    all: String,
    shifted: usize,
    /// `setlocal` scopes open when the call started (closed when it returns).
    envs: usize,
}

pub struct Vars {
    envs: Vec<Env>,
    frames: Vec<Frame>,
    /// `None` once a program ran (its exit code is not known here).
    pub errorlevel: Option<i32>,
}

impl Vars {
    pub fn new() -> Self {
        Vars {
            envs: vec![Env {
                values: HashMap::new(),
                delayed: false,
            }],
            frames: Vec::new(),
            errorlevel: Some(0),
        }
    }

    pub fn delayed(&self) -> bool {
        self.envs.last().is_some_and(|e| e.delayed)
    }

    pub fn set(&mut self, name: &str, value: Option<String>) {
        if let Some(env) = self.envs.last_mut() {
            env.values.insert(name.to_ascii_lowercase(), value);
        }
    }

    pub fn setlocal(&mut self, flags: &str) {
        let Some(current) = self.envs.last() else {
            return;
        };
        let delayed = if flags.contains("disabledelayedexpansion") {
            false
        } else {
            flags.contains("enabledelayedexpansion") || current.delayed
        };
        let values = current.values.clone();
        self.envs.push(Env { values, delayed });
    }

    pub fn endlocal(&mut self) {
        let floor = self.frames.last().map_or(1, |f| f.envs.max(1));
        if self.envs.len() > floor {
            self.envs.pop();
        }
    }

    pub fn shift(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.shifted += 1;
        }
    }

    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    pub fn push_frame(&mut self, label: String, (args, all): (Vec<String>, String)) {
        let mut all_args = vec![label];
        all_args.extend(args);
        self.frames.push(Frame {
            args: all_args,
            all,
            shifted: 0,
            envs: self.envs.len(),
        });
    }

    /// Returns from a call: its `setlocal` scopes end with it.
    pub fn pop_frame(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.envs.truncate(f.envs.max(1));
        }
    }
}

impl Scope for Vars {
    fn var(&self, name: &str) -> Lookup {
        let key = name.to_ascii_lowercase();
        match self.envs.last().and_then(|e| e.values.get(&key)) {
            Some(Some(v)) => Lookup::Known(v.clone()),
            Some(None) => Lookup::Undefined,
            None if key == "errorlevel" => self
                .errorlevel
                .map_or(Lookup::Unknown, |e| Lookup::Known(e.to_string())),
            None => Lookup::Unknown,
        }
    }

    fn arg(&self, n: usize) -> Lookup {
        match self.frames.last() {
            Some(f) => f
                .args
                .get(if n == 0 { 0 } else { n + f.shifted })
                .map_or(Lookup::Undefined, |a| Lookup::Known(a.clone())),
            // The script's own arguments are not known here.
            None => Lookup::Unknown,
        }
    }

    fn all_args(&self) -> Lookup {
        match self.frames.last() {
            Some(f) => Lookup::Known(f.all.clone()),
            None => Lookup::Unknown,
        }
    }
}
