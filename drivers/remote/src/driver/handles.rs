//! Object handles: the api's (`Domain`, `Network`, ...) and the protocol's `nonnull` structs.
//! A handle goes back to the daemon exactly as it came (name, UUID, id), as libvirt's client
//! does.
