//! Command implementations, one file per concern. Declarations (names, options, help) live in
//! `defs/`; this table links a declared name to the function that runs it.

pub mod console;
pub mod counters;
pub mod domain;
pub mod edit;
pub mod guest;
pub mod host;
pub mod interface;
pub mod lifecycle;
pub mod managedsave;
pub mod monitor;
pub mod netupdate;
pub mod network;
pub mod nodestats;
pub mod options;
pub mod pool;
pub mod secret;
pub mod snapshot;
pub mod snapshot_ops;
pub mod virsh;
pub mod voldata;
pub mod volume;
pub mod xpath;

use crate::shell::Handler;

/// The function that runs a command, or None for a command declared but not built yet.
pub fn handler(name: &str) -> Option<Handler> {
    use domain as d;
    use lifecycle as l;
    use monitor as m;
    use virsh as v;
    Some(match name {
        "help" => v::cmd_help,
        "echo" => v::cmd_echo,
        "cd" => v::cmd_cd,
        "pwd" => v::cmd_pwd,
        "connect" => v::cmd_connect,
        "quit" | "exit" => v::cmd_quit,
        "complete" => v::cmd_complete,
        "list" => m::cmd_list,
        "dominfo" => m::cmd_dominfo,
        "domstate" => m::cmd_domstate,
        "domid" => m::cmd_domid,
        "domname" => m::cmd_domname,
        "domuuid" => m::cmd_domuuid,
        "domblklist" => m::cmd_domblklist,
        "domiflist" => m::cmd_domiflist,
        "domblkinfo" => m::cmd_domblkinfo,
        "dommemstat" => m::cmd_dommemstat,
        "domstats" => m::cmd_domstats,
        "define" => l::cmd_define,
        "create" => l::cmd_create,
        "undefine" => l::cmd_undefine,
        "start" => l::cmd_start,
        "shutdown" => l::cmd_shutdown,
        "reboot" => l::cmd_reboot,
        "reset" => l::cmd_reset,
        "destroy" => l::cmd_destroy,
        "suspend" => l::cmd_suspend,
        "resume" => l::cmd_resume,
        "autostart" => l::cmd_autostart,
        "domrename" => l::cmd_domrename,
        "dumpxml" => d::cmd_dumpxml,
        "desc" => d::cmd_desc,
        "setmem" => d::cmd_setmem,
        "setmaxmem" => d::cmd_setmaxmem,
        "setvcpus" => d::cmd_setvcpus,
        "vcpucount" => d::cmd_vcpucount,
        "vcpuinfo" => d::cmd_vcpuinfo,
        "schedinfo" => d::cmd_schedinfo,
        "edit" => crate::commands::edit::cmd_edit,
        // network.rs, pool.rs, volume.rs, host.rs, interface.rs, snapshot.rs
        "net-list" => network::cmd_net_list,
        "net-info" => network::cmd_net_info,
        "net-dumpxml" => network::cmd_net_dumpxml,
        "net-define" => network::cmd_net_define,
        "net-undefine" => network::cmd_net_undefine,
        "net-create" => network::cmd_net_create,
        "net-start" => network::cmd_net_start,
        "net-destroy" => network::cmd_net_destroy,
        "net-autostart" => network::cmd_net_autostart,
        "net-uuid" => network::cmd_net_uuid,
        "net-name" => network::cmd_net_name,
        "net-edit" => network::cmd_net_edit,
        "pool-list" => pool::cmd_pool_list,
        "pool-info" => pool::cmd_pool_info,
        "pool-dumpxml" => pool::cmd_pool_dumpxml,
        "pool-define" => pool::cmd_pool_define,
        "pool-define-as" => pool::cmd_pool_define_as,
        "pool-create" => pool::cmd_pool_create,
        "pool-create-as" => pool::cmd_pool_create_as,
        "pool-build" => pool::cmd_pool_build,
        "pool-start" => pool::cmd_pool_start,
        "pool-destroy" => pool::cmd_pool_destroy,
        "pool-delete" => pool::cmd_pool_delete,
        "pool-undefine" => pool::cmd_pool_undefine,
        "pool-autostart" => pool::cmd_pool_autostart,
        "pool-refresh" => pool::cmd_pool_refresh,
        "pool-name" => pool::cmd_pool_name,
        "pool-uuid" => pool::cmd_pool_uuid,
        "pool-edit" => pool::cmd_pool_edit,
        "vol-list" => volume::cmd_vol_list,
        "vol-info" => volume::cmd_vol_info,
        "vol-dumpxml" => volume::cmd_vol_dumpxml,
        "vol-create-as" => volume::cmd_vol_create_as,
        "vol-create" => volume::cmd_vol_create,
        "vol-delete" => volume::cmd_vol_delete,
        "vol-path" => volume::cmd_vol_path,
        "vol-name" => volume::cmd_vol_name,
        "vol-key" => volume::cmd_vol_key,
        "vol-pool" => volume::cmd_vol_pool,
        "nodeinfo" => host::cmd_nodeinfo,
        "hostname" => host::cmd_hostname,
        "uri" => host::cmd_uri,
        "version" => host::cmd_version,
        "capabilities" => host::cmd_capabilities,
        "sysinfo" => host::cmd_sysinfo,
        "freecell" => host::cmd_freecell,
        "maxvcpus" => host::cmd_maxvcpus,
        "iface-list" => interface::cmd_iface_list,
        "iface-dumpxml" => interface::cmd_iface_dumpxml,
        "iface-name" => interface::cmd_iface_name,
        "iface-mac" => interface::cmd_iface_mac,
        "snapshot-create" => snapshot::cmd_snapshot_create,
        "snapshot-create-as" => snapshot::cmd_snapshot_create_as,
        "snapshot-list" => snapshot::cmd_snapshot_list,
        "snapshot-info" => snapshot_ops::cmd_snapshot_info,
        "snapshot-revert" => snapshot_ops::cmd_snapshot_revert,
        "snapshot-dumpxml" => snapshot::cmd_snapshot_dumpxml,
        "snapshot-current" => snapshot::cmd_snapshot_current,
        "snapshot-parent" => snapshot::cmd_snapshot_parent,
        "snapshot-delete" => snapshot::cmd_snapshot_delete,
        // nodestats.rs, netupdate.rs, voldata.rs, secret.rs, guest.rs, counters.rs,
        // managedsave.rs
        "nodecpustats" => nodestats::cmd_nodecpustats,
        "nodecpumap" => nodestats::cmd_nodecpumap,
        "nodememstats" => nodestats::cmd_nodememstats,
        "domcapabilities" => nodestats::cmd_domcapabilities,
        "iface-define" => interface::cmd_iface_define,
        "iface-undefine" => interface::cmd_iface_undefine,
        "iface-start" => interface::cmd_iface_start,
        "iface-destroy" => interface::cmd_iface_destroy,
        "iface-begin" => interface::cmd_iface_begin,
        "iface-commit" => interface::cmd_iface_commit,
        "iface-rollback" => interface::cmd_iface_rollback,
        "net-update" => netupdate::cmd_net_update,
        "net-dhcp-leases" => netupdate::cmd_net_dhcp_leases,
        "vol-resize" => voldata::cmd_vol_resize,
        "vol-wipe" => voldata::cmd_vol_wipe,
        "vol-upload" => voldata::cmd_vol_upload,
        "vol-download" => voldata::cmd_vol_download,
        "secret-define" => secret::cmd_secret_define,
        "secret-dumpxml" => secret::cmd_secret_dumpxml,
        "secret-set-value" => secret::cmd_secret_set_value,
        "secret-get-value" => secret::cmd_secret_get_value,
        "secret-undefine" => secret::cmd_secret_undefine,
        "secret-list" => secret::cmd_secret_list,
        "domifaddr" => guest::cmd_domifaddr,
        "domhostname" => guest::cmd_domhostname,
        "domtime" => guest::cmd_domtime,
        "domif-getlink" => guest::cmd_domif_getlink,
        "domcontrol" => guest::cmd_domcontrol,
        "domblkerror" => guest::cmd_domblkerror,
        "cpu-stats" => counters::cmd_cpu_stats,
        "domblkstat" => counters::cmd_domblkstat,
        "domifstat" => counters::cmd_domifstat,
        "managedsave" => managedsave::cmd_managedsave,
        "managedsave-remove" => managedsave::cmd_managedsave_remove,
        "console" => console::cmd_console,
        "ttyconsole" => console::cmd_ttyconsole,
        _ => return None,
    })
}
