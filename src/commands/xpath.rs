//! `--xpath EXPR [--wrap]` on the *dumpxml commands: virsh's virshDumpXML.
//!
//! virsh parses the document it received, evaluates EXPR with the root element as context node
//! and prints every node of the resulting node-set as `xmlNodeDump` writes it, one per line, or
//! with `--wrap` copies of them inside one `<nodes>` element. A result that is not a node-set
//! (`count(...)`, `string(...)`, `1=1`) is "internal error: Incorrect xpath '...'". An
//! expression libxml2 cannot compile or evaluate is not an error for virsh: libxml2 reports it on
//! stderr and the command prints an empty result and succeeds.

use crate::shell::CmdError;
use virtsh_xml::xpath::{Document, NodeKind, Value};

/// What the command writes: stdout (each line newline-terminated; the shell adds virsh's blank
/// line after the command) and what libxml2 would have printed on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub stdout: String,
    pub stderr: String,
}

/// The nodes `expr` selects in `xml`, serialised as virsh prints them. libxml2's own
/// diagnostics (XPath syntax errors) go to stderr right away, as they do under virsh.
pub fn select(xml: &str, expr: &str, wrap: bool) -> Result<String, CmdError> {
    let sel = evaluate(xml, expr, wrap)?;
    if !sel.stderr.is_empty() {
        eprint!("{}", sel.stderr);
    }
    Ok(sel.stdout)
}

/// [`select`] without side effects.
pub fn evaluate(xml: &str, expr: &str, wrap: bool) -> Result<Selection, CmdError> {
    if expr.is_empty() {
        // virsh refuses an empty --xpath value without a message and fails.
        return Err(CmdError::lines(Vec::new()));
    }
    let doc = Document::parse(xml).map_err(|e| CmdError::msg(e.libvirt_message("(null)", xml)))?;
    let ev = doc.evaluate(doc.root_element(), expr);
    let nodes = match ev.value {
        None => Vec::new(),
        Some(Value::NodeSet(nodes)) => nodes,
        Some(_) => {
            return Err(CmdError::msg(format!(
                "internal error: Incorrect xpath '{expr}'"
            )))
        }
    };
    let mut stdout = String::new();
    if wrap {
        stdout.push_str(&doc.dump_wrapped(&nodes));
        stdout.push('\n');
    } else {
        for n in nodes {
            match doc.dump(n) {
                Some(text) => stdout.push_str(&text),
                // virXMLNodeToString fails on namespace nodes; vshPrint shows the NULL.
                None => {
                    debug_assert_eq!(doc.kind(n), NodeKind::Namespace);
                    stdout.push_str("(null)");
                }
            }
            stdout.push('\n');
        }
    }
    Ok(Selection {
        stdout,
        stderr: ev.diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Documents as `virsh -c test:///default` prints them, and what virsh 9.0 prints for
    // `--xpath EXPR [--wrap]` on them: stdout (without virsh's blank line after each command)
    // and stderr. "xp" is a domain defined with a title, a description and namespaced metadata.
    // generated from virsh 9.0 (test:///default)
    const DOC_NET: &str = r#"<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
"#;
    const DOC_POOL: &str = r#"<pool type='dir'>
  <name>default-pool</name>
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
  <capacity unit='bytes'>107374182400</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>107374182400</available>
  <source>
  </source>
  <target>
    <path>/default-pool</path>
  </target>
</pool>
"#;
    const DOC_TEST: &str = r#"<domain type='test' id='1'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>
</domain>
"#;
    const DOC_XP: &str = r#"<domain type='test'>
  <name>xp</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <title>Tïtle &amp; &quot;q&quot; &lt;x&gt;</title>
  <description>line1
line2	tab &amp; é ü  </description>
  <metadata>
    <app:foo xmlns:app="http://example.org/app" a="1" b="&#xE9;&amp;&quot;&lt;&#10;x&#9;y">
      <app:bar>text<app:baz/>tail</app:bar>
      <app:empty>   </app:empty>
      <app:nested>
        <app:x>1</app:x>
        <app:x>2</app:x>
        <app:x>3</app:x>
      </app:nested>
    </app:foo>
    <other xmlns="http://example.org/other">
      <o k="v">z</o>
    </other>
  </metadata>
  <memory unit='KiB'>1024</memory>
  <currentMemory unit='KiB'>1024</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
  </devices>
</domain>
"#;
    const CASES: &[(&str, &str, bool, &str, &str)] = &[
        (
            DOC_TEST,
            r#"//os"#,
            false,
            r#"<os>
  <type arch="i686">hvm</type>
  <boot dev="hd"/>
</os>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//os"#,
            true,
            r#"<nodes>
  <os>
    <type arch="i686">hvm</type>
    <boot dev="hd"/>
  </os>
</nodes>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"/domain/devices/*[2]"#,
            false,
            r#"<interface type="network">
  <mac address="aa:bb:cc:dd:ee:ff"/>
  <source network="default"/>
  <target dev="testnet0"/>
  <address type="pci" domain="0x0000" bus="0x00" slot="0x01" function="0x0"/>
</interface>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//disk/@type"#,
            false,
            r#" type="file"
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//disk/@type"#,
            true,
            r#"<nodes type="file"/>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//address/@bus | //address/@slot"#,
            true,
            r#"<nodes bus="0x00" slot="0x02"/>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//name/text()"#,
            false,
            r#"test
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//name/text() | //uuid/text()"#,
            true,
            r#"<nodes>test6695eb01-f6a4-8304-79aa-97f2502e193f</nodes>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//name | //uuid/text()"#,
            true,
            r#"<nodes><name>test</name>6695eb01-f6a4-8304-79aa-97f2502e193f</nodes>
"#,
            r#""#,
        ),
        (DOC_TEST, r#"//nothing"#, false, r#""#, r#""#),
        (
            DOC_TEST,
            r#"//nothing"#,
            true,
            r#"<nodes/>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#".."#,
            false,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<domain type="test" id="1">
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit="KiB">8388608</memory>
  <currentMemory unit="KiB">2097152</currentMemory>
  <vcpu placement="static">2</vcpu>
  <os>
    <type arch="i686">hvm</type>
    <boot dev="hd"/>
  </os>
  <clock offset="utc"/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type="file" device="disk">
      <source file="/guest/diskimage1"/>
      <target dev="vda" bus="virtio"/>
      <address type="pci" domain="0x0000" bus="0x01" slot="0x00" function="0x0"/>
    </disk>
    <interface type="network">
      <mac address="aa:bb:cc:dd:ee:ff"/>
      <source network="default"/>
      <target dev="testnet0"/>
      <address type="pci" domain="0x0000" bus="0x00" slot="0x01" function="0x0"/>
    </interface>
    <memballoon model="virtio">
      <address type="pci" domain="0x0000" bus="0x00" slot="0x02" function="0x0"/>
    </memballoon>
  </devices>
</domain>

"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"/"#,
            true,
            r#"<nodes>
<?xml version="1.0" encoding="UTF-8"?>
<domain type="test" id="1">
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit="KiB">8388608</memory>
  <currentMemory unit="KiB">2097152</currentMemory>
  <vcpu placement="static">2</vcpu>
  <os>
    <type arch="i686">hvm</type>
    <boot dev="hd"/>
  </os>
  <clock offset="utc"/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type="file" device="disk">
      <source file="/guest/diskimage1"/>
      <target dev="vda" bus="virtio"/>
      <address type="pci" domain="0x0000" bus="0x01" slot="0x00" function="0x0"/>
    </disk>
    <interface type="network">
      <mac address="aa:bb:cc:dd:ee:ff"/>
      <source network="default"/>
      <target dev="testnet0"/>
      <address type="pci" domain="0x0000" bus="0x00" slot="0x01" function="0x0"/>
    </interface>
    <memballoon model="virtio">
      <address type="pci" domain="0x0000" bus="0x00" slot="0x02" function="0x0"/>
    </memballoon>
  </devices>
</domain>

</nodes>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//*[@slot][last()]"#,
            false,
            r#"<address type="pci" domain="0x0000" bus="0x01" slot="0x00" function="0x0"/>
<address type="pci" domain="0x0000" bus="0x00" slot="0x01" function="0x0"/>
<address type="pci" domain="0x0000" bus="0x00" slot="0x02" function="0x0"/>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//@*[.="0x0000"]"#,
            false,
            r#" domain="0x0000"
 domain="0x0000"
 domain="0x0000"
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"name|"#,
            false,
            r#"<name>test</name>
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//disk["#,
            false,
            r#""#,
            r#"XPath error : Invalid expression
"#,
        ),
        (
            DOC_TEST,
            r#"//disk[@type=]"#,
            false,
            r#""#,
            r#"XPath error : Invalid expression
//disk[@type=]
             ^
"#,
        ),
        (
            DOC_TEST,
            r#"a[["#,
            true,
            r#"<nodes/>
"#,
            r#"XPath error : Invalid expression
a[[
  ^
XPath error : Invalid expression
"#,
        ),
        (
            DOC_TEST,
            r#"//name[foo()]"#,
            false,
            r#""#,
            r#"xmlXPathCompOpEval: function foo not found
XPath error : Unregistered function
"#,
        ),
        (
            DOC_TEST,
            r#"//app:x"#,
            false,
            r#""#,
            r#"XPath error : Undefined namespace prefix
"#,
        ),
        (
            DOC_TEST,
            r#"//disk[foo:bar()]"#,
            false,
            r#""#,
            r#"xmlXPathCompOpEval: function bar bound to undefined prefix foo
"#,
        ),
        (
            DOC_TEST,
            r#"count("#,
            false,
            r#""#,
            r#"XPath error : Invalid number of arguments
"#,
        ),
        (
            DOC_TEST,
            r#"//interface/namespace::*"#,
            false,
            r#"(null)
"#,
            r#""#,
        ),
        (
            DOC_TEST,
            r#"//mac/@address/following::*[1]"#,
            false,
            r#"<source network="default"/>
"#,
            r#""#,
        ),
        (DOC_TEST, r#"//boot/ancestor::*[1]/@*"#, false, r#""#, r#""#),
        (
            DOC_XP,
            r#"//title | //description"#,
            false,
            r#"<title>Tïtle &amp; "q" &lt;x&gt;</title>
<description>line1
line2	tab &amp; é ü  </description>
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//metadata/*"#,
            false,
            r#"<app:foo xmlns:app="http://example.org/app" a="1" b="&#xE9;&amp;&quot;&lt;&#10;x&#9;y">
  <app:bar>text<app:baz/>tail</app:bar>
  <app:empty>   </app:empty>
  <app:nested>
    <app:x>1</app:x>
    <app:x>2</app:x>
    <app:x>3</app:x>
  </app:nested>
</app:foo>
<other xmlns="http://example.org/other">
  <o k="v">z</o>
</other>
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//*[local-name()="o"]"#,
            true,
            r#"<nodes>
  <o xmlns="http://example.org/other" k="v">z</o>
</nodes>
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//*[local-name()="foo"]/@b"#,
            false,
            r#" b="&#xE9;&amp;&quot;&lt;&#10;x&#9;y"
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//*[local-name()="bar"]/node()"#,
            false,
            r#"text
<app:baz/>
tail
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//*[local-name()="bar"]/node()"#,
            true,
            r#"<nodes>text<app:baz xmlns:app="http://example.org/app"/>tail</nodes>
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//devices"#,
            false,
            r#"<devices>
  </devices>
"#,
            r#""#,
        ),
        (
            DOC_XP,
            r#"//*[local-name()="x"] | //*[local-name()="x"]/text()"#,
            true,
            r#"<nodes><app:x xmlns:app="http://example.org/app">1</app:x>1<app:x xmlns:app="http://example.org/app">2</app:x>2<app:x xmlns:app="http://example.org/app">3</app:x>3</nodes>
"#,
            r#""#,
        ),
        (
            DOC_POOL,
            r#"//source"#,
            false,
            r#"<source>
  </source>
"#,
            r#""#,
        ),
        (
            DOC_POOL,
            r#"//source | //target"#,
            true,
            r#"<nodes>
  <source>
  </source>
  <target>
    <path>/default-pool</path>
  </target>
</nodes>
"#,
            r#""#,
        ),
        (
            DOC_NET,
            r#"//ip"#,
            false,
            r#"<ip address="192.168.122.1" netmask="255.255.255.0">
  <dhcp>
    <range start="192.168.122.2" end="192.168.122.254"/>
  </dhcp>
</ip>
"#,
            r#""#,
        ),
        (
            DOC_NET,
            r#"//range/@*"#,
            true,
            r#"<nodes start="192.168.122.2" end="192.168.122.254"/>
"#,
            r#""#,
        ),
    ];

    #[test]
    fn output_matches_virsh() {
        for (i, (doc, expr, wrap, stdout, stderr)) in CASES.iter().enumerate() {
            let got =
                evaluate(doc, expr, *wrap).unwrap_or_else(|e| panic!("case {i} {expr}: {e:?}"));
            assert_eq!(
                got.stdout, *stdout,
                "case {i}: --xpath '{expr}' wrap={wrap}"
            );
            assert_eq!(
                got.stderr, *stderr,
                "case {i}: --xpath '{expr}' wrap={wrap} (stderr)"
            );
        }
    }

    #[test]
    fn results_that_are_not_node_sets_are_incorrect() {
        for expr in [
            "count(//disk)",
            "string(//name)",
            "1=1",
            "3",
            "\"abc\"",
            "string(",
            "lang('en')",
        ] {
            for wrap in [false, true] {
                let err = evaluate(DOC_TEST, expr, wrap).unwrap_err();
                assert_eq!(
                    err.lines,
                    vec![format!("internal error: Incorrect xpath '{expr}'")],
                    "{expr}"
                );
            }
        }
    }

    #[test]
    fn empty_expression_fails_silently() {
        let err = evaluate(DOC_TEST, "", false).unwrap_err();
        assert!(err.lines.is_empty());
    }

    #[test]
    fn select_returns_stdout() {
        assert_eq!(
            select(DOC_NET, "//bridge/@name", false).unwrap(),
            " name=\"virbr0\"\n"
        );
        assert_eq!(select(DOC_NET, "//nothing", false).unwrap(), "");
    }
}
