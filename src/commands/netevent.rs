//! `net-event`: wait for network lifecycle events (cmdNetworkEvent in tools/virsh-network.c).

use crate::commands::network::network;
use crate::commands::options::opt_str;
use crate::commands::qemu::{finish_watch, print_event, timeout_option};
use crate::parse::ParsedCmd;
use crate::shell::{CmdError, CmdResult, Shell};
use virtsh_api::NetworkEvent;

/// virshNetworkEventCallbacks: libvirt 9.0 has one event type.
const EVENT_TYPES: [&str; 1] = ["lifecycle"];

/// virshNetworkEvent, by virNetworkEventLifecycleType.
fn lifecycle_word(event: i32) -> &'static str {
    match event {
        0 => "Defined",
        1 => "Undefined",
        2 => "Started",
        3 => "Stopped",
        _ => "unknown",
    }
}

pub fn cmd_net_event(sh: &mut Shell, cmd: &ParsedCmd) -> CmdResult {
    if cmd.has("list") {
        for n in EVENT_TYPES {
            sh.print(&format!("{n}\n"));
        }
        return Ok(());
    }
    let Some(event) = opt_str(cmd, "event")? else {
        return Err(CmdError::msg("either --list or --event <type> is required"));
    };
    if !EVENT_TYPES.contains(&event) {
        return Err(CmdError::msg(format!("unknown event type {event}")));
    }
    let looping = cmd.has("loop");
    let stamp = cmd.has("timestamp");
    let timeout = timeout_option(cmd)?;
    // virsh reports a network it cannot find and then watches every network.
    let net = match cmd.get("network") {
        Some(_) => match network(sh, cmd) {
            Ok(n) => Some(n),
            Err(e) => {
                for line in &e.lines {
                    sh.error(line);
                }
                None
            }
        },
        None => None,
    };
    let mut count = 0usize;
    let conn = sh.conn()?;
    conn.network_events(net.as_ref(), timeout, &mut |e: NetworkEvent| {
        let NetworkEvent::Lifecycle { network, event, .. } = e;
        let line = format!(
            "event 'lifecycle' for network {}: {}\n",
            network.name,
            lifecycle_word(event)
        );
        print_event(stamp, &line);
        count += 1;
        looping
    })
    .map_err(CmdError::from)?;
    let timed_out = looping || count == 0;
    finish_watch(sh, timed_out && timeout.is_some(), count)
}
