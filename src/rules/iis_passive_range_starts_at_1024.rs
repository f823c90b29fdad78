//! `iis-passive-range-starts-at-1024`: see rules/iis-passive-range-starts-at-1024.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::iis::{IIS7_DISPUTED_LOW, IIS7_VALID, RangeVerdict};
use crate::formats::iis_apphost::{self, apphost_of};

pub struct IisPassiveRangeStartsAt1024;

impl Rule for IisPassiveRangeStartsAt1024 {
    fn name(&self) -> &'static str {
        "iis-passive-range-starts-at-1024"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(doc) = apphost_of(file).filter(|d| d.xml.is_well_formed()) else {
            return;
        };
        let Some(low) = doc.data_channel.as_ref().and_then(|c| c.low.as_ref()) else {
            return;
        };
        let RangeVerdict::Ports { ports, .. } = iis_apphost::passive_verdict(doc) else {
            return;
        };
        if ports.first() != Some(IIS7_DISPUTED_LOW) {
            return;
        }
        let (min, max) = IIS7_VALID;
        let written = file.source.slice(low.value_span);
        let d = Diagnostic::new(
                self.name(),
                format!(
                    "lowDataChannelPort={IIS7_DISPUTED_LOW} is one below {min}-{max}, the band the IIS configuration reference and IIS Manager accept (the FTP firewall walkthrough allows {IIS7_DISPUTED_LOW})"
                ),
                low.value_span,
                format!("IIS Manager wants {min}-{max}"),
            )
            .with_help(format!(
                "set lowDataChannelPort={min} (and open {min}-{} in the firewall)",
                ports.last().unwrap_or(max)
            ));
        // Unsafe: IIS then hands out one port fewer (1024 is no longer used).
        let fixable = written.trim() == IIS7_DISPUTED_LOW.to_string() && ports.last() > Some(min);
        out.push(match fixable {
            true => d.with_unsafe_fix(
                format!("set lowDataChannelPort={min}"),
                vec![(low.value_span, written.replace(&IIS7_DISPUTED_LOW.to_string(), &min.to_string()))],
            ),
            false => d,
        });
    }
}
