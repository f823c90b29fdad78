//! The elements and attributes firewalld 1.3's readers accept
//! (`firewall/core/io/zone.py` and `service.py`, `PARSER_*_ELEMENT_ATTRS`): any
//! other element or attribute is a `PARSE_ERROR`, and the whole user
//! configuration is dropped for the stock one.

/// (element, required attributes, optional attributes) of a zone file.
pub const ZONE: &[(&str, &[&str], &[&str])] = &[
    ("short", &[], &[]),
    ("description", &[], &[]),
    ("zone", &[], &["name", "immutable", "target", "version"]),
    ("service", &["name"], &[]),
    ("port", &["port", "protocol"], &[]),
    ("icmp-block", &["name"], &[]),
    ("icmp-type", &["name"], &[]),
    ("forward", &[], &[]),
    (
        "forward-port",
        &["port", "protocol"],
        &["to-port", "to-addr"],
    ),
    ("interface", &["name"], &[]),
    ("rule", &[], &["family", "priority"]),
    (
        "source",
        &[],
        &["address", "mac", "invert", "family", "ipset"],
    ),
    ("destination", &[], &["address", "invert", "ipset"]),
    ("protocol", &["value"], &[]),
    ("source-port", &["port", "protocol"], &[]),
    ("log", &[], &["prefix", "level"]),
    ("nflog", &[], &["group", "prefix", "queue-size"]),
    ("audit", &[], &[]),
    ("accept", &[], &[]),
    ("reject", &[], &["type"]),
    ("drop", &[], &[]),
    ("mark", &["set"], &[]),
    ("limit", &["value"], &[]),
    ("icmp-block-inversion", &[], &[]),
    ("masquerade", &[], &["enabled"]),
    ("tcp-mss-clamp", &[], &["value"]),
];

/// The same for a service file.
pub const SERVICE: &[(&str, &[&str], &[&str])] = &[
    ("short", &[], &[]),
    ("description", &[], &[]),
    ("service", &[], &["name", "version"]),
    ("port", &[], &["port", "protocol"]),
    ("protocol", &[], &["value"]),
    ("module", &[], &["name"]),
    ("destination", &[], &["ipv4", "ipv6"]),
    ("source-port", &[], &["port", "protocol"]),
    ("include", &[], &["service"]),
    ("helper", &[], &["name"]),
];

/// The first thing firewalld's reader refuses in an element: an unknown element,
/// a missing required attribute, or an unknown attribute (in that order).
pub fn check(
    table: &[(&str, &[&str], &[&str])],
    element: &crate::formats::xml::Element,
) -> Option<(crate::source::Span, String)> {
    let Some((_, required, optional)) = table.iter().find(|(n, _, _)| *n == element.name) else {
        return Some((
            element.name_span,
            format!("Unexpected element {}", element.name),
        ));
    };
    if let Some(missing) = required.iter().find(|r| element.attr(r).is_none()) {
        return Some((
            element.tag,
            format!("Missing attribute {missing} for {}", element.name),
        ));
    }
    element
        .attrs
        .iter()
        .find(|a| !required.contains(&a.name.as_str()) && !optional.contains(&a.name.as_str()))
        .map(|a| {
            (
                a.name_span,
                format!("{}: Unexpected attribute {}", element.name, a.name),
            )
        })
}
