//! Domain events (virConnectDomainEventRegisterAny through the callback procedures, and
//! QEMU monitor events) and the screenshot stream.

use std::time::{Duration, Instant};

use virtsh_api::{Domain, DomainEvent, Error, Result, Screenshot};

use super::super::handles::domain_from_remote;
use super::{rdom, RemoteDriver};
use crate::client::Event;
use crate::generated::qemu::{
    self, QemuConnectDomainMonitorEventDeregisterArgs, QemuConnectDomainMonitorEventRegisterArgs,
    QemuDomainMonitorEventMsg,
};
use crate::generated::remote::{procs, *};
use crate::procedure::Procedure;
use crate::stream::StreamData;

/// VIR_DOMAIN_EVENT_ID_LIFECYCLE and VIR_DOMAIN_EVENT_ID_REBOOT: the events the api carries.
const EVENT_ID_LIFECYCLE: i32 = 0;
const EVENT_ID_REBOOT: i32 = 1;

/// How long one wait for an event lasts when the caller set no timeout.
const IDLE_WAIT: Duration = Duration::from_secs(3600);

fn is<P: Procedure>(ev: &Event) -> bool {
    ev.header.prog == P::PROGRAM && ev.header.proc == P::PROC
}

impl RemoteDriver {
    /// Waits for events until `sink` says stop or `timeout` passes; `decode` turns the
    /// daemon's messages into api events (None for ones that are not ours).
    fn pump_events(
        &self,
        timeout: Option<Duration>,
        decode: &dyn Fn(&Event) -> Option<DomainEvent>,
        sink: &mut dyn FnMut(DomainEvent) -> bool,
    ) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let wait = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Ok(()),
                },
                None => IDLE_WAIT,
            };
            let event = self
                .session()?
                .client
                .wait_event(wait)
                .map_err(Error::from)?;
            let Some(event) = event else { continue };
            if let Some(e) = decode(&event) {
                if !sink(e) {
                    return Ok(());
                }
            }
        }
    }

    /// virConnectDomainEventRegisterAny for lifecycle and reboot events, the wait, and the
    /// deregistration.
    pub(super) fn watch_domain_events(
        &self,
        dom: Option<&Domain>,
        timeout: Option<Duration>,
        sink: &mut dyn FnMut(DomainEvent) -> bool,
    ) -> Result<()> {
        // Events from before the registration are not this watch's.
        drop(self.session()?.client.take_events());
        let mut ids = Vec::new();
        for event_id in [EVENT_ID_LIFECYCLE, EVENT_ID_REBOOT] {
            let r = self.call::<procs::ConnectDomainEventCallbackRegisterAny>(
                &RemoteConnectDomainEventCallbackRegisterAnyArgs {
                    event_id,
                    dom: dom.map(rdom),
                },
            );
            match r {
                Ok(r) => ids.push(r.callback_id),
                Err(e) => {
                    self.deregister_domain_events(&ids);
                    return Err(e);
                }
            }
        }
        let decode = |ev: &Event| -> Option<DomainEvent> {
            if is::<procs::DomainEventCallbackLifecycle>(ev) {
                let m = ev.decode::<RemoteDomainEventCallbackLifecycleMsg>().ok()?;
                if !ids.contains(&m.callback_id) {
                    return None;
                }
                return Some(DomainEvent::Lifecycle {
                    domain: domain_from_remote(m.msg.dom),
                    event: m.msg.event,
                    detail: m.msg.detail,
                });
            }
            if is::<procs::DomainEventCallbackReboot>(ev) {
                let m = ev.decode::<RemoteDomainEventCallbackRebootMsg>().ok()?;
                if !ids.contains(&m.callback_id) {
                    return None;
                }
                return Some(DomainEvent::Reboot {
                    domain: domain_from_remote(m.msg.dom),
                });
            }
            None
        };
        let result = self.pump_events(timeout, &decode, sink);
        self.deregister_domain_events(&ids);
        result
    }

    fn deregister_domain_events(&self, ids: &[i32]) {
        for &callback_id in ids {
            // As virsh, a failure to deregister is not the watch's failure.
            let _ = self.call::<procs::ConnectDomainEventCallbackDeregisterAny>(
                &RemoteConnectDomainEventCallbackDeregisterAnyArgs { callback_id },
            );
        }
    }

    /// virConnectDomainQemuMonitorEventRegister, the wait, and the deregistration.
    pub(super) fn watch_qemu_events(
        &self,
        dom: Option<&Domain>,
        event_filter: Option<&str>,
        timeout: Option<Duration>,
        sink: &mut dyn FnMut(DomainEvent) -> bool,
    ) -> Result<()> {
        drop(self.session()?.client.take_events());
        let callback_id = self
            .call::<qemu::procs::ConnectDomainMonitorEventRegister>(
                &QemuConnectDomainMonitorEventRegisterArgs {
                    dom: dom.map(rdom),
                    event: event_filter.map(str::to_string),
                    flags: 0,
                },
            )?
            .callback_id;
        let decode = |ev: &Event| -> Option<DomainEvent> {
            if !is::<qemu::procs::DomainMonitorEvent>(ev) {
                return None;
            }
            let m = ev.decode::<QemuDomainMonitorEventMsg>().ok()?;
            if m.callback_id != callback_id {
                return None;
            }
            Some(DomainEvent::QemuMonitor {
                domain: domain_from_remote(m.dom),
                event: m.event,
                seconds: m.seconds,
                micros: m.micros,
                details: m.details,
            })
        };
        let result = self.pump_events(timeout, &decode, sink);
        let _ = self.call::<qemu::procs::ConnectDomainMonitorEventDeregister>(
            &QemuConnectDomainMonitorEventDeregisterArgs { callback_id },
        );
        result
    }

    /// virDomainScreenshot: the reply names the MIME type, the image follows on the stream.
    pub(super) fn screenshot(&self, dom: &Domain, screen: u32, flags: u32) -> Result<Screenshot> {
        type P = procs::DomainScreenshot;
        let args = RemoteDomainScreenshotArgs {
            dom: rdom(dom),
            screen,
            flags,
        };
        let (ret, mut stream) = self
            .session()?
            .client
            .call_with_stream::<_, <P as Procedure>::Ret>(P::PROGRAM, P::PROC, &args)
            .map_err(Error::from)?;
        let mut data = Vec::new();
        loop {
            match stream.recv() {
                Ok(StreamData::Data(d)) => data.extend_from_slice(&d),
                Ok(StreamData::Hole { length, .. }) => {
                    let length = usize::try_from(length).unwrap_or(0);
                    data.resize(data.len() + length, 0);
                }
                Ok(StreamData::Eof) => break,
                Err(e) => {
                    let _ = stream.abort();
                    return Err(Error::from(e));
                }
            }
        }
        stream.finish().map_err(Error::from)?;
        Ok(Screenshot {
            mime: ret.mime.unwrap_or_default(),
            data,
        })
    }
}
