//! `configSource="ftpFirewall.config"` on a section of `applicationHost.config`:
//! the configuration system reads that section from the named file instead, a
//! path relative to the configuration file's folder whose root element is the
//! section itself (.NET's `SectionInformation.ConfigSource`, which IIS's
//! configuration system shares: "the name of the include file in which the
//! associated configuration section is defined").
//!
//! The file is read from the repository as [`crate::jail`] allows: in the
//! config's folder or below it, inside the run's folder, never through a
//! symlink. What was read keeps no positions of its own (it is not one of the
//! run's files): every span in it is the `configSource` value, where findings
//! about the section are shown.

use super::xml::{self, Attr, XmlTree};
use crate::source::{SourceFile, Span};
use std::path::{Component, Path, PathBuf};

pub const ATTR: &str = "configSource";

/// A section element that names its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSource {
    /// The `configSource` attribute.
    pub attr: Attr,
    /// The section's element name (`firewallSupport`, `sites`).
    pub section: String,
    pub state: State,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// The section's element is the root of this tree (index 0).
    Read(Box<XmlTree>),
    /// No regular file of that name in the config's folder in the repository.
    Missing { looked: PathBuf },
    /// Not read: why (a path outside the config's folder, a file that is not
    /// the section, a config that is not on disk).
    NotRead(String),
}

impl ConfigSource {
    /// The tree holding the section, when it was read.
    pub fn tree(&self) -> Option<&XmlTree> {
        match &self.state {
            State::Read(tree) => Some(tree),
            _ => None,
        }
    }

    /// Why the section's settings are not known, when they are not.
    pub fn unknown_reason(&self) -> Option<String> {
        let file = &self.attr.value;
        match &self.state {
            State::Read(_) => None,
            State::Missing { .. } => Some(format!(
                "the section is read from configSource file {file}, which is not in the repository"
            )),
            State::NotRead(why) => Some(format!(
                "the section is read from configSource file {file}, which is not read: {why}"
            )),
        }
    }
}

/// The section `element` of `source` reads from its `configSource`, when it has one.
pub fn follow(source: &SourceFile, element: &xml::Element) -> Option<ConfigSource> {
    let attr = element.attr(ATTR)?.clone();
    let state = state(source, &attr, &element.name);
    Some(ConfigSource {
        section: element.name.clone(),
        attr,
        state,
    })
}

fn state(source: &SourceFile, attr: &Attr, section: &str) -> State {
    if source.is_virtual() {
        return State::NotRead("the configuration file is written by a script".to_owned());
    }
    let relative = match relative_path(&attr.value) {
        Ok(p) => p,
        Err(why) => return State::NotRead(why),
    };
    let looked = source.path.parent().unwrap_or(Path::new("")).join(relative);
    let allowed = crate::jail::jail(&source.path).is_some_and(|j| crate::jail::within(&looked, &j));
    if std::fs::symlink_metadata(&looked).is_ok_and(|m| m.file_type().is_symlink()) {
        return State::NotRead("it is a symbolic link, which pasvlint does not follow".to_owned());
    }
    let bytes = allowed
        .then(|| crate::jail::read_regular(&looked))
        .flatten();
    let Some(bytes) = bytes else {
        return State::Missing { looked };
    };
    let included = SourceFile::new(source.id, &looked, &bytes);
    let mut tree = xml::read(&included);
    relocate(&mut tree, attr.value_span);
    if !tree.is_well_formed() {
        return State::NotRead("it is not well-formed XML".to_owned());
    }
    match tree.root() {
        Some(root) if root.name == section => State::Read(Box::new(tree)),
        Some(root) => State::NotRead(format!(
            "its root element is <{}>, and the configuration system wants <{section}>",
            root.name
        )),
        None => State::NotRead("it holds no element".to_owned()),
    }
}

/// `ftpFirewall.config`, `config\ftp.config`: a path below the config's folder.
fn relative_path(value: &str) -> Result<PathBuf, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("the value is empty".to_owned());
    }
    let path = PathBuf::from(value.replace('\\', "/"));
    let drive = value.as_bytes().get(1) == Some(&b':');
    let escapes = path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if drive || escapes {
        return Err(
            "pasvlint reads a configSource file only from the configuration file's folder or below it"
                .to_owned(),
        );
    }
    Ok(path)
}

/// Every position in `tree` made `at`: the included file is shown through the
/// attribute that names it.
fn relocate(tree: &mut XmlTree, at: Span) {
    for e in &mut tree.elements {
        e.name_span = at;
        e.tag = at;
        e.text.iter_mut().for_each(|s| *s = at);
        e.end_name = e.end_name.map(|_| at);
        e.end_tag = e.end_tag.map(|_| at);
        for a in &mut e.attrs {
            a.name_span = at;
            a.value_span = at;
        }
    }
    for err in &mut tree.errors {
        err.span = at;
        if let Some((s, _)) = &mut err.related {
            *s = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_below_the_folder_only() {
        assert_eq!(
            relative_path("config\\ftp.config"),
            Ok(PathBuf::from("config/ftp.config"))
        );
        assert_eq!(
            relative_path("ftpFirewall.config"),
            Ok(PathBuf::from("ftpFirewall.config"))
        );
        for refused in [
            "..\\x.config",
            "/etc/passwd",
            "C:\\x.config",
            "\\\\srv\\x",
            "",
        ] {
            assert!(relative_path(refused).is_err(), "{refused}");
        }
    }
}
