use super::*;
use crate::source::FileId;

pub(crate) fn file(text: &str) -> (TfFile, SourceFile) {
    let source = SourceFile::new(FileId(0), "infra/main.tf", text.as_bytes());
    (parse(&source), source)
}

#[test]
fn blocks_attributes_and_spans() {
    let (f, src) = file(
        "resource \"aws_security_group\" \"ftp\" {\n  ingress {\n    from_port = 21\n    to_port   = 21\n  }\n}\n",
    );
    assert!(f.syntax_error.is_none());
    let sg = &f.blocks[0];
    assert_eq!(sg.kind, "resource");
    assert_eq!(sg.labels, ["aws_security_group", "ftp"]);
    assert_eq!(
        src.slice(sg.head),
        "resource \"aws_security_group\" \"ftp\""
    );
    let ing = &sg.body.blocks[0];
    let from = ing.body.attr("from_port").unwrap();
    assert_eq!(src.slice(from.span), "from_port = 21");
    assert_eq!(src.slice(from.value.span), "21");
}

#[test]
fn syntax_errors_are_placed_as_terraform_places_them() {
    let (f, src) = file("resource \"a\" \"b\" {\n  ingress {\n    from_port = 21\n");
    let e = f.syntax_error.unwrap();
    assert_eq!(e.message, "Unclosed configuration block");
    assert_eq!(src.line_col(e.span.start).0, 2);
    let (f, src) = file("resource \"a\" \"b\" {\n  x = 1\n  x = 2\n}\n");
    let e = f.syntax_error.unwrap();
    assert!(
        e.message.starts_with("Attribute redefined"),
        "{}",
        e.message
    );
    assert_eq!(src.line_col(e.span.start).0, 3);
}

proptest::proptest! {
    #[test]
    fn any_text_parses_without_panic(text in "(resource|\"a\"|\\{|\\}|\\[|\\]|=|<<-?EOF\\n|EOF\\n|\\$\\{|%\\{|\\n|  |x|21|#|//|/\\*|\\*/|,|é|\\\\)*") {
        let (f, src) = file(&text);
        if let Some(e) = &f.syntax_error {
            proptest::prop_assert!(src.text.get(e.span.range()).is_some());
        }
    }
}

/// The module made of `files` (name, text), as the run reads it.
fn module_facts(files: &[(&str, &str)]) -> crate::facts::FileFacts {
    let parts: Vec<crate::formats::ParsedFile> = files
        .iter()
        .enumerate()
        .map(|(i, (name, text))| {
            let source =
                SourceFile::new(FileId(i as u32), format!("infra/{name}"), text.as_bytes());
            crate::formats::parse(source, crate::formats::Format::Terraform)
        })
        .collect();
    let bundles = module::assemble(parts);
    assert_eq!(bundles.len(), 1);
    module::facts(&bundles[0])
}

fn ports(text: &str) -> crate::portset::PortSet {
    crate::portset::PortSet::parse(text).unwrap()
}

const INSTANCE: &str = "resource \"aws_instance\" \"ftp\" {\n  vpc_security_group_ids = [aws_security_group.a.id, aws_security_group.b.id]\n}\n";

#[test]
fn aws_groups_of_an_instance_add_up_and_sources_are_classes() {
    let sgs = r#"
resource "aws_security_group" "a" {
  ingress {
    from_port   = 21
    to_port     = 21
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 0
    to_port     = 65535
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_security_group" "b" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "6"
    cidr_blocks = ["198.51.100.0/24"]
  }
}
resource "aws_security_group_rule" "data" {
  type              = "ingress"
  security_group_id = aws_security_group.b.id
  from_port         = 50000
  to_port           = 50100
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
"#;
    let f = module_facts(&[("sg.tf", sgs), ("main.tf", INSTANCE)]);
    let fw = f.firewall.expect("the instance's groups");
    assert_eq!(fw.dialect, crate::facts::Dialect::AwsSecurityGroup);
    assert_eq!(fw.open_to_all, ports("21,50000-50100"));
    assert_eq!(fw.open_to_some, ports("22"));
    let office = fw
        .classes
        .iter()
        .find(|c| {
            c.sources
                .as_ref()
                .is_some_and(|s| s.to_cidr_text() == "198.51.100.0/24")
        })
        .expect("a class for the office");
    assert!(office.open.contains(22));
    assert!(f.firewall_v6.is_none(), "no rule names an IPv6 source");
}

#[test]
fn aws_protocol_all_opens_every_port() {
    let sg = "resource \"aws_security_group\" \"a\" {\n  ingress {\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\nresource \"aws_security_group\" \"b\" {}\n";
    let f = module_facts(&[("sg.tf", sg), ("main.tf", INSTANCE)]);
    assert_eq!(f.firewall.unwrap().open_to_all, ports("1-65535"));
}

#[test]
fn a_group_from_a_variable_without_default_is_unknown_never_open() {
    let tf = "variable \"sg\" {}\nresource \"aws_instance\" \"ftp\" {\n  vpc_security_group_ids = [var.sg]\n}\n";
    let fw = module_facts(&[("main.tf", tf)]).firewall.unwrap();
    assert!(fw.open_to_all.is_empty());
    assert_eq!(fw.open_to_some, ports("1-65535"));
    assert!(
        fw.uncertain
            .iter()
            .any(|u| u.what.contains("var.sg has no default"))
    );
    let tf = "variable \"sg\" {\n  default = \"x\"\n}\nresource \"aws_security_group\" \"g\" {\n  name = \"x\"\n  ingress {\n    from_port   = 21\n    to_port     = 21\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\nresource \"aws_instance\" \"ftp\" {\n  security_groups = [var.sg]\n}\n";
    let fw = module_facts(&[("main.tf", tf)]).firewall.unwrap();
    assert_eq!(fw.open_to_all, ports("21"), "the default names the group");
}

const NSG_VM: &str = r#"
resource "azurerm_network_interface" "nic" {
  ip_configuration {
    name = "x"
  }
}
resource "azurerm_network_interface_security_group_association" "a" {
  network_interface_id      = azurerm_network_interface.nic.id
  network_security_group_id = azurerm_network_security_group.nsg.id
}
resource "azurerm_linux_virtual_machine" "ftp" {
  network_interface_ids = [azurerm_network_interface.nic.id]
}
"#;

fn nsg_rule(name: &str, priority: u32, access: &str, ports: &str, source: &str) -> String {
    format!(
        "  security_rule {{\n    name                       = \"{name}\"\n    priority                   = {priority}\n    direction                  = \"Inbound\"\n    access                     = \"{access}\"\n    protocol                   = \"Tcp\"\n    source_port_range          = \"*\"\n    destination_port_range     = \"{ports}\"\n    source_address_prefix      = \"{source}\"\n    destination_address_prefix = \"*\"\n  }}\n"
    )
}

#[test]
fn azure_rules_decide_by_priority_first_match() {
    let nsg = format!(
        "resource \"azurerm_network_security_group\" \"nsg\" {{\n{}{}{}}}\n",
        nsg_rule("data", 300, "Allow", "50000-50100", "*"),
        nsg_rule("ctl", 100, "Allow", "21", "Internet"),
        nsg_rule("deny", 200, "Deny", "50050-65535", "*"),
    );
    let fw = module_facts(&[("nsg.tf", &nsg), ("vm.tf", NSG_VM)])
        .firewall
        .unwrap();
    assert_eq!(fw.dialect, crate::facts::Dialect::AzureNsg);
    assert_eq!(fw.open_to_all, ports("21,50000-50049"));
    // AllowVnetInBound and AllowAzureLoadBalancerInBound (65000, 65001): some
    // sources, every port the deny at 200 has not decided.
    assert_eq!(fw.open_to_any(), ports("1-50049"));
}

const GCP_INSTANCE: &str = "resource \"google_compute_instance\" \"ftp\" {\n  tags = [\"ftp\"]\n  network_interface {\n    network = \"default\"\n  }\n}\n";

fn gcp_rule(name: &str, kind: &str, priority: u32, ports: &str, extra: &str) -> String {
    format!(
        "resource \"google_compute_firewall\" \"{name}\" {{\n  network  = \"default\"\n  priority = {priority}\n  {kind} {{\n    protocol = \"tcp\"\n    ports    = [{ports}]\n  }}\n{extra}}}\n"
    )
}

#[test]
fn gcp_deny_wins_at_equal_priority_and_targets_are_tags() {
    let fws = [
        gcp_rule(
            "allow",
            "allow",
            1000,
            "\"21\", \"50000-50100\"",
            "  target_tags = [\"ftp\"]\n",
        ),
        gcp_rule(
            "deny",
            "deny",
            1000,
            "\"50050-50100\"",
            "  source_ranges = [\"0.0.0.0/0\"]\n",
        ),
        gcp_rule(
            "web",
            "allow",
            900,
            "\"8080\"",
            "  target_tags = [\"web\"]\n",
        ),
        gcp_rule(
            "early",
            "allow",
            10,
            "\"50090\"",
            "  source_ranges = [\"0.0.0.0/0\"]\n",
        ),
        gcp_rule(
            "other",
            "allow",
            1000,
            "\"9000\"",
            "  network = \"other\"\n",
        )
        .replace("  network  = \"default\"\n", ""),
    ]
    .concat();
    let fw = module_facts(&[("fw.tf", &fws), ("vm.tf", GCP_INSTANCE)])
        .firewall
        .unwrap();
    assert_eq!(fw.dialect, crate::facts::Dialect::GcpFirewall);
    assert_eq!(fw.open_to_all, ports("21,50000-50049,50090"));
}

#[test]
fn a_heredoc_user_data_is_a_boot_script_mapping_back_to_the_tf_file() {
    let tf = "resource \"aws_security_group\" \"a\" {}\nresource \"aws_instance\" \"ftp\" {\n  vpc_security_group_ids = [aws_security_group.a.id]\n  user_data = <<-EOF\n    #!/bin/sh\n    echo $${HOME} ${var.x}\n  EOF\n}\nvariable \"x\" {\n  default = \"v\"\n}\n";
    let f = module_facts(&[("main.tf", tf)]);
    assert!(f.firewall.is_none(), "the instance is a machine of its own");
    let boot = &f.boot[0];
    assert_eq!(boot.name, "infra/main.tf → aws_instance.ftp");
    let crate::facts::BootBody::Text(text) = &boot.body else {
        panic!("a heredoc");
    };
    assert_eq!(text.text, "#!/bin/sh\necho ${HOME} v\n");
    let home = text.text.find("HOME").unwrap();
    let span = text.span_of(home, home + 4).unwrap();
    assert_eq!(&tf[span.range()], "HOME");
    assert!(boot.firewall.is_some());
}

#[test]
fn facts_list_the_cloud_layer_before_the_host_firewall() {
    let report = crate::lint(
        &[std::path::PathBuf::from(
            "fixtures/rules/passive-ports-blocked/bad-terraform-aws-iptables-behind-sg",
        )],
        &crate::policy::Config::default(),
    );
    let host = report
        .hosts
        .iter()
        .find(|h| !h.servers.is_empty())
        .expect("the instance's host");
    let kinds: Vec<&str> = host
        .firewall
        .as_ref()
        .unwrap()
        .layers
        .iter()
        .map(|l| l.kind)
        .collect();
    assert_eq!(kinds, ["aws-security-group", "iptables"]);
}

#[test]
fn dynamic_blocks_over_known_collections_are_expanded() {
    let sg = r#"
variable "openings" {
  default = [
    { from = 21, to = 21 },
    { from = 50000, to = 50100 },
  ]
}
variable "unknown" {}
resource "aws_security_group" "a" {
  dynamic "ingress" {
    for_each = var.openings
    content {
      from_port   = ingress.value.from
      to_port     = ingress.value.to
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
resource "aws_security_group" "b" {
  dynamic "ingress" {
    for_each = var.unknown
    iterator = port
    content {
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
"#;
    let fw = module_facts(&[("sg.tf", sg), ("main.tf", INSTANCE)])
        .firewall
        .unwrap();
    // Group a's openings are known; group b may open any port to some sources.
    assert_eq!(fw.open_to_all, ports("21,50000-50100"));
    assert_eq!(fw.open_to_any(), ports("1-65535"));
    assert!(fw.uncertain.iter().any(|u| u.what.contains("var.unknown")));
}

#[test]
fn groups_of_an_attached_network_interface_guard_the_instance() {
    let tf = r#"
resource "aws_security_group" "a" {
  ingress {
    from_port   = 21
    to_port     = 21
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_network_interface" "ftp" {
  subnet_id       = "subnet-0123"
  security_groups = [aws_security_group.a.id]
}
resource "aws_instance" "ftp" {
  network_interface {
    network_interface_id = aws_network_interface.ftp.id
    device_index         = 0
  }
}
"#;
    let fw = module_facts(&[("main.tf", tf)]).firewall.unwrap();
    assert_eq!(fw.open_to_all, ports("21"));
    assert!(fw.uncertain.is_empty());
}
