//! The init's command line and environment, and the container's hostname, as libvirt makes
//! them (`lxcContainerBuildInitCmd`, `lxcContainerSetHostname`).

use std::ffi::CString;

use super::error::ContainerError;
use super::plan::cstr;
use super::ContainerSpec;

/// libvirt's hostname from a domain name: only ASCII letters, digits and `-` are kept, and
/// one leading `-` is dropped (RFC 1123 allows a leading digit).
pub fn filter_hostname(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    match kept.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => kept,
    }
}

/// The init's environment: libvirt's variables in libvirt's order, then the `<initenv>`s,
/// each replacing an earlier variable of the same name in place (as `virCommandAddEnv`).
/// Nothing of the caller's own environment is passed on.
pub(super) fn environment(spec: &ContainerSpec) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: &str| {
        match env.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => env.push((name.to_string(), value.to_string())),
        };
    };
    set("PATH", "/bin:/sbin");
    set("TERM", "linux");
    set("container", "lxc-libvirt");
    set("HOME", "/");
    set("container_uuid", &spec.uuid);
    set("LIBVIRT_LXC_UUID", &spec.uuid);
    set("LIBVIRT_LXC_NAME", &spec.name);
    if let Some(cmdline) = &spec.cmdline {
        set("LIBVIRT_LXC_CMDLINE", cmdline);
    }
    for (name, value) in &spec.env {
        set(name, value);
    }
    env
}

/// The init's path, argv (the path is also `argv[0]`) and `NAME=value` environment.
pub(super) fn command(
    spec: &ContainerSpec,
) -> Result<(CString, Vec<CString>, Vec<CString>), ContainerError> {
    let Some(init) = spec.init.first() else {
        return Err(ContainerError::Invalid("no init to run".into()));
    };
    if init.is_empty() {
        return Err(ContainerError::Invalid("the init path is empty".into()));
    }
    let argv = spec
        .init
        .iter()
        .map(|a| cstr("init argument", a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut envp = Vec::new();
    for (name, value) in environment(spec) {
        if name.is_empty() || name.contains('=') {
            return Err(ContainerError::Invalid(format!(
                "invalid environment variable name '{name}'"
            )));
        }
        envp.push(cstr("environment variable", &format!("{name}={value}"))?);
    }
    Ok((cstr("init", init)?, argv, envp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_filter() {
        assert_eq!(filter_hostname("web1"), "web1");
        assert_eq!(filter_hostname("my_box.example"), "myboxexample");
        assert_eq!(filter_hostname("-lead"), "lead");
        assert_eq!(filter_hostname("--x"), "-x");
        assert_eq!(filter_hostname("9lives"), "9lives");
    }

    #[test]
    fn libvirt_environment() {
        let spec = ContainerSpec {
            name: "c1".into(),
            uuid: "u-u-i-d".into(),
            init: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            env: vec![
                ("FOO".into(), "bar".into()),
                ("PATH".into(), "/usr/bin".into()),
            ],
            cmdline: Some("quiet".into()),
            ..Default::default()
        };
        let env = environment(&spec);
        let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "PATH",
                "TERM",
                "container",
                "HOME",
                "container_uuid",
                "LIBVIRT_LXC_UUID",
                "LIBVIRT_LXC_NAME",
                "LIBVIRT_LXC_CMDLINE",
                "FOO"
            ]
        );
        assert_eq!(env[0].1, "/usr/bin");
        assert_eq!(env[2].1, "lxc-libvirt");
        let (init, argv, envp) = command(&spec).expect("command");
        assert_eq!(init.to_str(), Ok("/bin/sh"));
        assert_eq!(argv.len(), 3);
        assert!(envp.iter().any(|e| e.to_str() == Ok("LIBVIRT_LXC_NAME=c1")));
    }

    #[test]
    fn bad_commands() {
        let mut spec = ContainerSpec::default();
        assert!(command(&spec).is_err());
        spec.init = vec!["/sbin/init".into()];
        spec.env = vec![("A=B".into(), "c".into())];
        assert!(command(&spec).is_err());
        spec.env = vec![("A".into(), "nul\0".into())];
        assert!(command(&spec).is_err());
    }
}
