use super::*;
use crate::formats::bundle::Bundle;
use crate::formats::{Format, ParsedFile};
use crate::portset::PortSet;
use crate::source::FileId;
use std::path::Path;

fn part(id: u32, path: &str, text: &str) -> ParsedFile {
    crate::formats::parse(
        SourceFile::new(FileId(id), path, text.as_bytes()),
        Format::Kubernetes,
    )
}

fn cluster(files: &[(&str, &str)]) -> Vec<Bundle> {
    let parts = files
        .iter()
        .enumerate()
        .map(|(i, (p, t))| part(i as u32, p, t))
        .collect();
    cluster::assemble(parts)
}

const FAURIA: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ftp\nspec:\n  template:\n    metadata:\n      labels:\n        app: ftp\n    spec:\n      containers:\n        - name: ftp\n          image: fauria/vsftpd\n          env:\n            - name: PASV_MIN_PORT\n              value: \"30100\"\n            - name: PASV_MAX_PORT\n              value: \"30109\"\n";

fn node_port_service(ports: &[u16]) -> String {
    let mut s = String::from(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: ftp\nspec:\n  type: NodePort\n  selector:\n    app: ftp\n  ports:\n    - name: control\n      port: 21\n      targetPort: 21\n      nodePort: 30021\n",
    );
    for p in ports {
        s.push_str(&format!(
            "    - name: p{p}\n      port: {p}\n      targetPort: {p}\n      nodePort: {p}\n"
        ));
    }
    s
}

#[test]
fn sniffs_manifests_not_compose_or_other_yaml() {
    assert!(sniff(Path::new("k8s/ftp.yaml"), FAURIA));
    assert!(sniff(
        Path::new("ftp.YML"),
        "---\napiVersion: v1\nkind: Service\n"
    ));
    assert!(!sniff(Path::new("compose.yaml"), FAURIA));
    assert!(!sniff(Path::new("values.yaml"), "image: fauria/vsftpd\n"));
    assert!(!sniff(Path::new("ftp.json"), FAURIA));
}

#[test]
fn reads_workload_service_and_policy_with_spans() {
    let text = format!("{FAURIA}---\n{}", node_port_service(&[30100]));
    let p = part(0, "ftp.yaml", &text);
    let crate::formats::Document::Kubernetes(m) = &p.doc else {
        panic!()
    };
    assert_eq!(m.objects.len(), 2);
    let Object::Workload(w) = &m.objects[0] else {
        panic!()
    };
    let c = &w.containers[0];
    assert_eq!(p.source.slice(c.image.as_ref().unwrap().1), "fauria/vsftpd");
    assert_eq!(p.source.slice(c.env[0].value_span), "30100");
    let Object::Service(s) = &m.objects[1] else {
        panic!()
    };
    assert_eq!(s.kind, objects::ServiceType::NodePort);
    let (n, span) = s.ports[1].node_port.unwrap();
    assert_eq!((n, p.source.slice(span)), (30100, "30100"));
}

#[test]
fn node_port_listing_half_the_range_blocks_the_rest() {
    let svc = node_port_service(&[30100, 30101, 30102, 30103, 30104]);
    let b = cluster(&[("k8s/deploy.yaml", FAURIA), ("k8s/svc.yaml", &svc)]);
    assert_eq!(b.len(), 1);
    let f = cluster::facts(&b[0]);
    assert_eq!(
        f.ftp[0].passive.ports(),
        Some(&PortSet::range(30100, 30109))
    );
    let fw = f.firewall.unwrap();
    assert_eq!(
        fw.open_to_all,
        PortSet::from_ranges([(21, 21), (30100, 30104)])
    );
    assert_eq!(fw.own_layers()[0].kind, "kubernetes");
}

#[test]
fn remapped_and_cluster_ip_ports_carry_no_passive_data() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  type: LoadBalancer\n  selector:\n    app: ftp\n  ports:\n    - port: 30100\n      targetPort: 30101\n    - port: 30102\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\nspec:\n  selector:\n    app: ftp\n  ports:\n    - port: 30103\n";
    let b = cluster(&[("deploy.yaml", FAURIA), ("svc.yaml", svc)]);
    let fw = cluster::facts(&b[0]).firewall.unwrap();
    assert_eq!(fw.open_to_all, PortSet::single(30102));
}

#[test]
fn host_port_and_host_network() {
    let hp = FAURIA.replace(
        "          env:\n",
        "          ports:\n            - containerPort: 30100\n              hostPort: 30100\n            - containerPort: 30101\n              hostPort: 31101\n          env:\n",
    );
    let fw = cluster::facts(&cluster(&[("d.yaml", &hp)])[0])
        .firewall
        .unwrap();
    assert_eq!(fw.open_to_all, PortSet::single(30100));
    let hn = FAURIA.replace(
        "    spec:\n      containers:",
        "    spec:\n      hostNetwork: true\n      containers:",
    );
    let fw = cluster::facts(&cluster(&[("d.yaml", &hn)])[0])
        .firewall
        .unwrap();
    assert_eq!(fw.open_to_all, PortSet::all());
}

#[test]
fn network_policy_intersects_with_end_port() {
    let svc = node_port_service(&[30100, 30101, 30102, 30103, 30104, 30105]);
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ftp\nspec:\n  podSelector:\n    matchLabels:\n      app: ftp\n  policyTypes: [Ingress]\n  ingress:\n    - ports:\n        - port: 21\n        - port: 30100\n          endPort: 30103\n";
    let b = cluster(&[
        ("a/d.yaml", FAURIA),
        ("a/s.yaml", &svc),
        ("a/np/np.yaml", np),
    ]);
    assert_eq!(b.len(), 1, "a subfolder belongs to the tree above it");
    let fw = cluster::facts(&b[0]).firewall.unwrap();
    assert_eq!(
        fw.open_to_all,
        PortSet::from_ranges([(21, 21), (30100, 30103)])
    );
    let kinds: Vec<&str> = fw.layers.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, ["kubernetes", "kubernetes-networkpolicy"]);
}

#[test]
fn other_namespace_and_sibling_trees_do_not_pair() {
    let svc = node_port_service(&[30100])
        .replace("  name: ftp\nspec", "  name: ftp\n  namespace: other\nspec");
    let b = cluster(&[("k/d.yaml", FAURIA), ("k/s.yaml", &svc)]);
    let fw = cluster::facts(&b[0]).firewall.unwrap();
    assert!(fw.open_to_all.is_empty());
    let b = cluster(&[
        ("x/d.yaml", FAURIA),
        ("y/s.yaml", &node_port_service(&[30100])),
    ]);
    assert_eq!(b.len(), 2);
}

#[test]
fn list_items_value_from_and_templates() {
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: ftp\n    spec:\n      containers:\n        - name: ftp\n          image: fauria/vsftpd\n          env:\n            - name: PASV_MIN_PORT\n              valueFrom:\n                configMapKeyRef: {name: c, key: k}\n";
    let f = cluster::facts(&cluster(&[("l.yaml", list)])[0]);
    assert!(matches!(
        f.ftp[0].passive,
        crate::facts::Passive::Unknown { .. }
    ));
    let helm = part(
        0,
        "templates/d.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  {{- if .Values.x }}\n  a: [\n",
    );
    let crate::formats::Document::Kubernetes(m) = &helm.doc else {
        panic!()
    };
    assert!(m.template && m.syntax_error.is_none());
    let bad = part(0, "d.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n");
    let crate::formats::Document::Kubernetes(m) = &bad.doc else {
        panic!()
    };
    assert!(m.syntax_error.is_some());
}

#[test]
fn an_unread_template_leaves_reachability_unknown() {
    let helm = "apiVersion: v1\nkind: Service\nspec:\n  ports: {{ .Values.ports }\n";
    let f = cluster::facts(&cluster(&[("c/d.yaml", FAURIA), ("c/templates/s.yaml", helm)])[0]);
    assert_eq!(f.ftp.len(), 1);
    assert!(f.firewall.is_none());
}

proptest::proptest! {
    #[test]
    fn any_text_reads_without_panic(text in "(apiVersion: v1\\n|kind: |Service|Pod|List|items:|spec:|ports:|\\n|  |- |port: |targetPort: |nodePort: |21|30100|x|\"|\\{|\\}|\\[|\\]|:|---\\n|é|#)*") {
        let b = cluster(&[("k.yaml", &text)]);
        for bundle in &b {
            let _ = cluster::facts(bundle);
        }
    }
}

#[test]
fn command_and_args_expand_variables_as_the_kubelet_does() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ftp\nspec:\n  containers:\n    - name: ftp\n      image: x\n      command: [\"/usr/sbin/pure-ftpd\"]\n      args: [\"-p\", \"$(RANGE)\", \"$$(RANGE)\", \"$(NOPE)\", \"$(SECRET)\"]\n      env:\n        - name: RANGE\n          value: \"30000:30009\"\n        - name: SECRET\n          valueFrom: {secretKeyRef: {name: s, key: k}}\n";
    let p = part(0, "k8s/pod.yaml", text);
    let crate::formats::Document::Kubernetes(m) = &p.doc else {
        panic!()
    };
    let Object::Workload(w) = &m.objects[0] else {
        panic!()
    };
    let c = &w.containers[0];
    let shown: Vec<Option<&str>> = c
        .args
        .as_ref()
        .unwrap()
        .words
        .iter()
        .map(|w| w.text.as_deref())
        .collect();
    assert_eq!(
        shown,
        [
            Some("-p"),
            Some("30000:30009"),
            Some("$(RANGE)"),
            Some("$(NOPE)"),
            None
        ]
    );
    assert_eq!(
        c.command.as_ref().unwrap().words[0].text.as_deref(),
        Some("/usr/sbin/pure-ftpd")
    );
}
