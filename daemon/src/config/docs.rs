//! `docs/configuration.md`, generated from the declarations by `ktrdrd --print-config-docs`. A test
//! fails when the file in the tree differs, so the docs cannot drift from what the daemon reads.

use super::settings::{ALL, Declared, Defaults, OTHER_ENV, Section};
use std::fmt::Write;

const INTRO: &str = r#"# Configuration

<!-- Generated from daemon/src/config/settings.rs: edit the declarations there, then run
     `ktrdrd --print-config-docs > docs/configuration.md`. A test fails when this file is stale. -->

`ktrdrd` takes each setting from, in rising priority: its default, the TOML file, its environment
variable, its flag. The file is `--config FILE`, else `$XDG_CONFIG_HOME/ktrdr/ktrdrd.toml`
(`~/.config/ktrdr/ktrdrd.toml`) if it exists. An empty variable counts as unset.

- `ktrdrctl config` shows every setting below with its value and its source (`default`, `file`,
  `env` or `flag`).
- `ktrdrctl status` shows, for each service, the variables of its settings and their values (the
  `system` service lists every variable).
- Unknown keys in the file and malformed values are errors naming the variable, or the key and
  the file, or the flag (exit code 9).

A key `table.name` is written `name = ...` under `[table]` in the file:

```toml
# ~/.config/ktrdr/ktrdrd.toml
data_dir = "/srv/ktrdr/data"
log = "info,ktrdr_daemon::server=debug"

[operations]
limits = { training = 1, ib_load = 1, demo = 4 }   # KTRDR_OPS_LIMITS="training=1,ib_load=1,demo=4"

[data]
cache_bytes = "2GiB"

[ib]
host = "127.0.0.1"
port = 4002

[training]
use_host_service = true
host_service_url = "unix:///tmp/gpu-host.sock"
```

## Host services

IB, training and backtest can each delegate their work to another `ktrdrd`, a *host service*,
with the same pair of settings: `<service>.use_host_service` (`USE_<SERVICE>_HOST_SERVICE`) and
`<service>.host_service_url` (`<SERVICE>_HOST_SERVICE_URL`), the host's socket as
`unix:///path/to/ktrdrd.sock` (for another machine, forward its socket:
`ssh -NL /tmp/gpu-host.sock:/run/user/UID/ktrdr/ktrdrd.sock HOST`). The URL is checked only when
the switch is on; an `http://` URL (the predecessor's host services) is an error saying this.
`docs/ib.md` and `docs/training.md` describe what each host does.
"#;

/// A table cell: pipes would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The whole of `docs/configuration.md`.
pub fn markdown() -> String {
    // Only consulted for defaults without a documented form, which the settings tests require
    // to be the same on every machine.
    let defaults = Defaults {
        runtime_dir: None,
        data_home: "/".into(),
        state_home: "/".into(),
        cache_home: "/".into(),
        cores: 1,
    };
    let mut out = String::from(INTRO);
    out.push_str("\n## Settings\n");
    for section in Section::EVERY {
        let _ = write!(
            out,
            "\n### `{}`\n\n| key | variable | flag | default | type | meaning |\n|---|---|---|---|---|---|\n",
            section.name()
        );
        for d in ALL.iter().filter(|d| d.meta().section == section) {
            out.push_str(&row(*d, &defaults));
        }
    }
    out.push_str(
        "\n## Other variables\n\nRead by ktrdrd but not settings: where the defaults live, and what service managers pass.\n\n| variable | read for |\n|---|---|\n",
    );
    for (name, why) in OTHER_ENV {
        let _ = writeln!(out, "| `{name}` | {} |", cell(why));
    }
    out
}

fn row(d: &dyn Declared, defaults: &Defaults) -> String {
    let m = d.meta();
    let kind = if m.unit.is_empty() {
        d.kind().to_string()
    } else {
        format!("{} ({})", d.kind(), m.unit)
    };
    format!(
        "| `{}` | `{}` | {} | {} | {} | {} |\n",
        m.key,
        m.env,
        m.flag.map(|f| format!("`{f}`")).unwrap_or_default(),
        cell(&d.default_doc(defaults)),
        cell(&kind),
        cell(m.help),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_configuration_md_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == markdown(),
            "{} is stale: run `ktrdrd --print-config-docs > docs/configuration.md`",
            path.display()
        );
    }

    #[test]
    fn every_setting_and_variable_has_a_row() {
        let md = markdown();
        for d in ALL {
            let m = d.meta();
            assert!(
                md.contains(&format!("| `{}` | `{}` |", m.key, m.env)),
                "{}",
                m.key
            );
        }
        for (name, _) in OTHER_ENV {
            assert!(md.contains(&format!("| `{name}` |")), "{name}");
        }
    }
}
