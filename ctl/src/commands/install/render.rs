//! The service templates (the files in systemd/ and launchd/, embedded at build time so an installed
//! ktrdrctl needs no source tree) with the real paths filled in. Paths are escaped for the format
//! they land in: a path with a space, `%` or `$` must not change meaning in a unit file.

use super::generated;
use super::layout::{Item, Layout, Target};
use ktrdr_protocol::WireError;
use std::path::Path;

const USER_SERVICE: &str = include_str!("../../../../systemd/ktrdrd.service");
const USER_SOCKET: &str = include_str!("../../../../systemd/ktrdrd.socket");
const SYSTEM_SERVICE: &str = include_str!("../../../../systemd/system/ktrdrd.service");
const SYSTEM_SOCKET: &str = include_str!("../../../../systemd/system/ktrdrd.socket");
const SYSUSERS: &str = include_str!("../../../../systemd/system/ktrdr.sysusers");
const AGENT: &str = include_str!("../../../../launchd/com.ktrdr.ktrdrd.plist");

pub fn item(
    item: Item,
    ktrdrd: &Path,
    layout: &Layout,
    cli: &clap::Command,
) -> Result<Vec<u8>, WireError> {
    let system = layout.target == Target::SystemdSystem;
    Ok(match item {
        Item::Service => {
            unit_with_exec(if system { SYSTEM_SERVICE } else { USER_SERVICE }, ktrdrd)?.into_bytes()
        }
        Item::Socket => (if system { SYSTEM_SOCKET } else { USER_SOCKET })
            .as_bytes()
            .to_vec(),
        Item::Sysusers => SYSUSERS.as_bytes().to_vec(),
        Item::Agent => agent(ktrdrd, &layout.root)?.into_bytes(),
        Item::Bash => generated::completion(cli, clap_complete::Shell::Bash),
        Item::Zsh => generated::completion(cli, clap_complete::Shell::Zsh),
        Item::Fish => generated::completion(cli, clap_complete::Shell::Fish),
        Item::Man => generated::man_page(cli)?,
    })
}

/// The template with its one `ExecStart=` line pointing at `ktrdrd`.
fn unit_with_exec(template: &str, ktrdrd: &Path) -> Result<String, WireError> {
    let exec = format!("ExecStart={}", systemd_quote(utf8(ktrdrd)?));
    let mut replaced = 0;
    let mut out = String::with_capacity(template.len() + exec.len());
    for line in template.lines() {
        if line.starts_with("ExecStart=") {
            out.push_str(&exec);
            replaced += 1;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if replaced != 1 {
        return Err(WireError::internal(format!(
            "unit template has {replaced} ExecStart= lines, expected 1"
        )));
    }
    Ok(out)
}

fn agent(ktrdrd: &Path, home: &Path) -> Result<String, WireError> {
    Ok(AGENT
        .replace("@@KTRDRD@@", &xml_escape(utf8(ktrdrd)?))
        .replace("@@HOME@@", &xml_escape(utf8(home)?)))
}

fn utf8(path: &Path) -> Result<&str, WireError> {
    let s = path
        .to_str()
        .ok_or_else(|| WireError::validation(format!("{} is not valid UTF-8", path.display())))?;
    if s.chars().any(char::is_control) {
        return Err(WireError::validation(format!(
            "{s:?} contains control characters"
        )));
    }
    Ok(s)
}

/// A path as one word of an `ExecStart=` command line: `%` specifiers and `$` variables escaped,
/// quoted when it holds whitespace or quotes (systemd.service(5), "Command lines").
fn systemd_quote(path: &str) -> String {
    let mut escaped = String::with_capacity(path.len() + 2);
    for c in path.chars() {
        match c {
            '%' => escaped.push_str("%%"),
            '$' => escaped.push_str("$$"),
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            c => escaped.push(c),
        }
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'))
    {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_start_is_replaced_once_and_escaped() {
        let unit = unit_with_exec(USER_SERVICE, Path::new("/opt/my apps/100%/$x/ktrdrd")).unwrap();
        let lines: Vec<&str> = unit
            .lines()
            .filter(|l| l.starts_with("ExecStart="))
            .collect();
        assert_eq!(lines, ["ExecStart=\"/opt/my apps/100%%/$$x/ktrdrd\""]);
        let plain = unit_with_exec(SYSTEM_SERVICE, Path::new("/usr/bin/ktrdrd")).unwrap();
        assert!(plain.contains("\nExecStart=/usr/bin/ktrdrd\n"));
    }

    #[test]
    fn agent_has_no_placeholders_left_and_escapes_xml() {
        let plist = agent(Path::new("/Apps/A&B/ktrdrd"), Path::new("/Users/me")).unwrap();
        assert!(!plist.contains("@@"));
        assert!(plist.contains("<string>/Apps/A&amp;B/ktrdrd</string>"));
        assert!(plist.contains("/Users/me/Library/Logs/ktrdr/ktrdrd.log"));
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(unit_with_exec(USER_SERVICE, Path::new("/a\nExecStartPre=/bin/evil")).is_err());
    }
}
