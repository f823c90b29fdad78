//! `container-passive-range-unknown`: see rules/container-passive-range-unknown.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::hosts::Host;
use crate::policy::Policy;

pub struct ContainerPassiveRangeUnknown;

/// The layers of container publishing, whose ports are checked against a range.
const CONTAINER_LAYERS: &[&str] = &["docker-compose", "kubernetes"];

impl Rule for ContainerPassiveRangeUnknown {
    fn name(&self) -> &'static str {
        "container-passive-range-unknown"
    }

    /// A server behind container publishing whose passive range is not known.
    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some((kind, servers)) =
            super::unknown_ranges_behind(host, |k| CONTAINER_LAYERS.contains(&k))
        else {
            return;
        };
        for (server, span, reason) in servers {
            let help = if reason.starts_with("the image starts with ") {
                "set the passive range in the config the image copies (or mounts) and start the daemon with it directly (`CMD [\"vsftpd\", \"/etc/vsftpd/vsftpd.conf\"]`), or keep the start script and check the range it sets by hand"
            } else {
                "write the values the range comes from in the file (or `.env`), or start the image with its own entrypoint, so the range can be checked against the published ports"
            };
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the passive range {} hands out is not known ({reason}), so it is not checked against the {} publishing in front of it",
                        server.vocabulary().product,
                        kind
                    ),
                    span,
                    "not known here",
                )
                .with_help(help),
            );
        }
    }
}
