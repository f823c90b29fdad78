//! The fix for `PassivePortRange` set at a site's path (`adsutil.vbs set
//! MSFTPSVC/1/PassivePortRange`), which IIS ignores: the site's part of the path
//! deleted, so the value lands at `/MSFTPSVC`, the only place IIS reads it. Only
//! where the path is written literally and the script sets no service-level range
//! of its own (which the moved one would then override or be overridden by).

use super::{IisSetting, RULE_IIS_COMMAND};
use crate::formats::winfw::Finding;
use crate::source::{SourceFile, Span};

/// A site-level path as the interpreter read it: `span` the finding's (the path
/// argument), `text` the argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SitePath {
    pub span: Span,
    pub text: String,
}

/// `finding` with the site's part of its path deleted, as an unsafe fix (every site
/// then gets the range), when it is a recorded site path written literally.
pub fn with_fix(
    finding: Finding,
    paths: &[SitePath],
    iis: &[IisSetting],
    source: &SourceFile,
) -> Finding {
    let sets_service_range = iis
        .iter()
        .any(|s| matches!(s, IisSetting::PassivePortRange { .. }));
    if finding.rule != RULE_IIS_COMMAND || sets_service_range {
        return finding;
    }
    let Some(p) = paths.iter().find(|p| p.span == finding.span) else {
        return finding;
    };
    if source.slice(p.span) != p.text {
        return finding;
    }
    let Some(site) = site_component(&p.text) else {
        return finding;
    };
    let start = p.span.start as usize;
    let span = source.span(start + site.start, start + site.end);
    finding.unsafe_fix(
        "set the range at /MSFTPSVC, where IIS reads it",
        vec![(span, String::new())],
    )
}

/// The bytes of `MSFTPSVC/1/PassivePortRange` that name the site, with one
/// separator: `1/` (either slash kind).
fn site_component(path: &str) -> Option<std::ops::Range<usize>> {
    let seps: Vec<usize> = path.match_indices(['/', '\\']).map(|(i, _)| i).collect();
    let lead = usize::from(seps.first() == Some(&0));
    let (first, second) = (*seps.get(lead)?, *seps.get(lead + 1)?);
    let service = path.get(lead..first)?;
    let property = path.get(second + 1..)?;
    let ok = service.eq_ignore_ascii_case("MSFTPSVC")
        && property.eq_ignore_ascii_case("PassivePortRange")
        && seps.len() == lead + 2;
    ok.then_some(first + 1..second + 1)
}

#[cfg(test)]
mod tests {
    use super::site_component;

    #[test]
    fn the_site_part_of_the_path_is_found() {
        let cut = |p: &str| site_component(p).map(|r| format!("{}{}", &p[..r.start], &p[r.end..]));
        assert_eq!(
            cut("MSFTPSVC/1/PassivePortRange").as_deref(),
            Some("MSFTPSVC/PassivePortRange")
        );
        assert_eq!(
            cut("/msftpsvc\\2\\passiveportrange").as_deref(),
            Some("/msftpsvc\\passiveportrange")
        );
        assert_eq!(cut("MSFTPSVC/1/Root/PassivePortRange"), None);
        assert_eq!(cut("W3SVC/1/PassivePortRange"), None);
    }
}
