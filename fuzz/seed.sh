#!/usr/bin/env bash
# Seed each target's corpus (fuzz/corpus/<target>/) from fixtures/ and from the
# regression inputs kept under fixtures/fuzz/<target>/. Files are picked by name
# and folder, as the formats recognise them; files over 64 KiB are left out (AFL
# slows down on large seeds). The `lint` corpus packs each fixture folder into
# one input in the tree format of `pasvlint_fuzz::tree`: for each file, one byte
# choosing its path in `TREE`, its bytes, then two NUL bytes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=fuzz/corpus
max=65536
rm -rf "$out"
mkdir -p "$out"

# Which target reads a fixture file, from its path; empty when none does.
target_of() {
  local p=$1 name
  name=$(basename "$p")
  case "$p" in
    *.snap | *.md | *.argv | *.toml) ;;
    */firewalld/zones/*.xml | */firewalld/services/*.xml | */firewalld.conf) echo firewalld ;;
    */ufw/*.rules | */ufw/ufw.conf | */default/ufw) echo ufw ;;
    *.pp) echo puppet ;;
    */pure-ftpd/conf/* | *pure-ftpd.conf | *pureftpd.conf) echo pureftpd ;;
    *proftpd.conf | */proftpd/*.conf | */proftpd/conf.d/*) echo proftpd ;;
    *vsftpd*.conf* | *vsftpd.conf.j2) echo vsftpd ;;
    *.nft | *nftables.conf | */nftables/*) echo nftables ;;
    *"FileZilla Server.xml" | */settings.xml) echo filezilla ;;
    *[Mm]eta[Bb]ase.xml) echo iis-metabase ;;
    *applicationHost.config) echo iis-apphost ;;
    *.reg) echo regfile ;;
    *.ps1) echo powershell ;;
    *.cmd | *.bat | *.CMD | *.BAT) echo cmd ;;
    *.sh | */rc.local) echo sh ;;
    *compose.yaml | *compose.yml | *docker-compose*.yml | *docker-compose*.yaml) echo compose ;;
    *.yaml | *.yml) grep -q '^apiVersion:' "$p" 2>/dev/null && echo kube ;;
    *rules.v4* | *rules.v6* | *.save | */iptables | */ip6tables | *iptables.old | */sysconfig/iptables*) echo iptables-save ;;
  esac
  : "$name"
}

# Index in pasvlint_fuzz::TREE of the path a fixture file takes in a lint input.
tree_index() {
  local p=$1
  case "$p" in
    */pasvlint.toml) echo 28 ;;
    */os-release | */redhat-release | */debian_version) echo 15 ;;
    */Dockerfile) echo 16 ;;
    *)
      case "$(target_of "$p")" in
        vsftpd) echo 0 ;;
        iptables-save) case "$p" in *v6* | *ip6tables*) echo 2 ;; *) echo 1 ;; esac ;;
        sh) echo 3 ;;
        nftables) echo 4 ;;
        ufw) case "$p" in */ufw.conf) echo 6 ;; */default/ufw) echo 7 ;; *) echo 5 ;; esac ;;
        firewalld) case "$p" in */services/*) echo 9 ;; *.conf) echo 10 ;; *) echo 8 ;; esac ;;
        proftpd) case "$p" in */proftpd.conf) echo 11 ;; *) echo 12 ;; esac ;;
        pureftpd) case "$p" in */conf/*) echo 14 ;; *) echo 13 ;; esac ;;
        compose) echo 17 ;;
        kube) echo 18 ;;
        filezilla) case "$p" in */settings.xml) echo 20 ;; *) echo 19 ;; esac ;;
        iis-metabase) echo 21 ;;
        iis-apphost) echo 22 ;;
        regfile) echo 23 ;;
        cmd) echo 24 ;;
        powershell) echo 25 ;;
      esac
      ;;
  esac
}

n=0
while IFS= read -r -d '' f; do
  [[ $(stat -c %s "$f") -le $max ]] || continue
  t=$(target_of "$f")
  [[ -n $t ]] || continue
  mkdir -p "$out/$t"
  cp "$f" "$out/$t/seed-$((n++))"
done < <(find fixtures -type f ! -path 'fixtures/fuzz/*' -print0 | sort -z)

# Kept regression inputs seed their own target again.
if [[ -d fixtures/fuzz ]]; then
  for dir in fixtures/fuzz/*/; do
    t=$(basename "$dir")
    mkdir -p "$out/$t"
    for f in "$dir"*; do
      [[ -f $f ]] && cp "$f" "$out/$t/kept-$(basename "$f")"
    done
  done
fi

# One lint input per fixture folder that holds a host tree.
mkdir -p "$out/lint"
m=0
while IFS= read -r -d '' dir; do
  input="$out/lint/tree-$((m++))"
  : >"$input"
  while IFS= read -r -d '' f; do
    [[ $(stat -c %s "$f") -le $max ]] || continue
    i=$(tree_index "$f")
    [[ -n $i ]] || continue
    # shellcheck disable=SC2059
    printf "\\x$(printf %02x "$i")" >>"$input"
    cat "$f" >>"$input"
    printf '\0\0' >>"$input"
  done < <(find "$dir" -type f -print0 | sort -z)
  [[ -s $input ]] || rm -f "$input"
done < <({ find fixtures/rules -mindepth 2 -maxdepth 2 -type d -print0; find fixtures/seeds -mindepth 1 -maxdepth 1 -type d -print0; } | sort -z)

for d in "$out"/*/; do
  echo "$(basename "$d"): $(find "$d" -type f | wc -l) seeds"
done
