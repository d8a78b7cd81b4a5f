//! Calls on storage pools and volumes (virStoragePool*, virStorageVol*).

use crate::error::{Error, Result};
use crate::types::{StoragePool, StoragePoolInfo, StorageVol, StorageVolInfo};
use uuid::Uuid;

pub trait StorageDriver {
    fn list_all_pools(&self, _flags: u32) -> Result<Vec<StoragePool>> {
        Err(Error::unsupported("virConnectListAllStoragePools"))
    }
    fn lookup_pool_by_name(&self, _name: &str) -> Result<StoragePool> {
        Err(Error::unsupported("virStoragePoolLookupByName"))
    }
    fn lookup_pool_by_uuid(&self, _uuid: &Uuid) -> Result<StoragePool> {
        Err(Error::unsupported("virStoragePoolLookupByUUID"))
    }
    fn pool_info(&self, _pool: &StoragePool) -> Result<StoragePoolInfo> {
        Err(Error::unsupported("virStoragePoolGetInfo"))
    }
    fn pool_xml(&self, _pool: &StoragePool, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virStoragePoolGetXMLDesc"))
    }
    fn define_pool(&self, _xml: &str, _flags: u32) -> Result<StoragePool> {
        Err(Error::unsupported("virStoragePoolDefineXML"))
    }
    fn create_pool(&self, _xml: &str, _flags: u32) -> Result<StoragePool> {
        Err(Error::unsupported("virStoragePoolCreateXML"))
    }
    fn build_pool(&self, _pool: &StoragePool, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStoragePoolBuild"))
    }
    fn start_pool(&self, _pool: &StoragePool, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStoragePoolCreate"))
    }
    fn destroy_pool(&self, _pool: &StoragePool) -> Result<()> {
        Err(Error::unsupported("virStoragePoolDestroy"))
    }
    fn delete_pool(&self, _pool: &StoragePool, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStoragePoolDelete"))
    }
    fn undefine_pool(&self, _pool: &StoragePool) -> Result<()> {
        Err(Error::unsupported("virStoragePoolUndefine"))
    }
    fn refresh_pool(&self, _pool: &StoragePool, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStoragePoolRefresh"))
    }
    fn pool_autostart(&self, _pool: &StoragePool) -> Result<bool> {
        Err(Error::unsupported("virStoragePoolGetAutostart"))
    }
    fn set_pool_autostart(&self, _pool: &StoragePool, _on: bool) -> Result<()> {
        Err(Error::unsupported("virStoragePoolSetAutostart"))
    }
    fn pool_is_active(&self, _pool: &StoragePool) -> Result<bool> {
        Err(Error::unsupported("virStoragePoolIsActive"))
    }
    fn pool_is_persistent(&self, _pool: &StoragePool) -> Result<bool> {
        Err(Error::unsupported("virStoragePoolIsPersistent"))
    }
    fn list_all_volumes(&self, _pool: &StoragePool, _flags: u32) -> Result<Vec<StorageVol>> {
        Err(Error::unsupported("virStoragePoolListAllVolumes"))
    }
    fn lookup_vol_by_name(&self, _pool: &StoragePool, _name: &str) -> Result<StorageVol> {
        Err(Error::unsupported("virStorageVolLookupByName"))
    }
    fn lookup_vol_by_path(&self, _path: &str) -> Result<StorageVol> {
        Err(Error::unsupported("virStorageVolLookupByPath"))
    }
    fn lookup_vol_by_key(&self, _key: &str) -> Result<StorageVol> {
        Err(Error::unsupported("virStorageVolLookupByKey"))
    }
    fn vol_info(&self, _vol: &StorageVol) -> Result<StorageVolInfo> {
        Err(Error::unsupported("virStorageVolGetInfo"))
    }
    fn vol_xml(&self, _vol: &StorageVol, _flags: u32) -> Result<String> {
        Err(Error::unsupported("virStorageVolGetXMLDesc"))
    }
    fn vol_path(&self, _vol: &StorageVol) -> Result<String> {
        Err(Error::unsupported("virStorageVolGetPath"))
    }
    fn create_vol(&self, _pool: &StoragePool, _xml: &str, _flags: u32) -> Result<StorageVol> {
        Err(Error::unsupported("virStorageVolCreateXML"))
    }
    fn delete_vol(&self, _vol: &StorageVol, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStorageVolDelete"))
    }
    /// virStorageVolGetInfoFlags (`vol-info --physical`).
    fn vol_info_flags(&self, _vol: &StorageVol, _flags: u32) -> Result<StorageVolInfo> {
        Err(Error::unsupported("virStorageVolGetInfoFlags"))
    }
    /// virStorageVolResize: `capacity` in bytes, flags::vol_resize.
    fn resize_vol(&self, _vol: &StorageVol, _capacity: u64, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStorageVolResize"))
    }
    /// virStorageVolWipe
    fn wipe_vol(&self, _vol: &StorageVol, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStorageVolWipe"))
    }
    /// virStorageVolWipePattern: `algorithm` is virStorageVolWipeAlgorithm.
    fn wipe_vol_pattern(&self, _vol: &StorageVol, _algorithm: u32, _flags: u32) -> Result<()> {
        Err(Error::unsupported("virStorageVolWipePattern"))
    }
    /// virStorageVolUpload, then virStreamSendAll (or virStreamSparseSendAll with
    /// VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) and virStreamFinish: writes what `source` yields
    /// at `offset` (`length` 0 = up to the end of the volume).
    fn upload_vol(
        &self,
        _vol: &StorageVol,
        _offset: u64,
        _length: u64,
        _source: &mut dyn VolSource,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virStorageVolUpload"))
    }
    /// virStorageVolDownload, then virStreamSparseRecvAll and virStreamFinish: hands the
    /// volume's contents from `offset` (`length` 0 = to the end) to `sink`, holes as holes
    /// (a daemon sends holes only with VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM).
    fn download_vol(
        &self,
        _vol: &StorageVol,
        _offset: u64,
        _length: u64,
        _sink: &mut dyn VolSink,
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virStorageVolDownload"))
    }
}

/// One piece of a volume's contents on its way: bytes, a run of zeroes that is not sent (a
/// hole of a sparse stream), or the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolChunk {
    Data(Vec<u8>),
    Hole(u64),
    End,
}

/// How far a transfer got. virsh makes three calls (virStorageVolUpload or Download opens the
/// stream, virStreamSendAll or RecvAll moves the bytes, virStreamFinish closes it) and words
/// a failure by the call that failed; one driver call covers all three, so the driver tells
/// the caller's source or sink when each later step begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolTransferStage {
    /// The volume accepted the transfer: bytes move from now on.
    Transfer,
    /// Every byte has moved; the stream is about to be finished. The caller closes its file
    /// here, as virsh does before virStreamFinish, and a failure aborts the stream.
    Finish,
}

/// Where an upload's bytes come from (virsh reads a file). Pulled one piece at a time, so a
/// volume is never held in memory whole.
pub trait VolSource {
    /// The next piece: at most `max` bytes of data, a hole (which a driver sends as a hole
    /// only on a sparse stream, and as zeroes otherwise), or the end.
    fn next_chunk(&mut self, max: usize) -> Result<VolChunk>;

    /// The transfer reached `stage`. An error aborts the stream and is returned as is.
    fn reached(&mut self, _stage: VolTransferStage) -> Result<()> {
        Ok(())
    }
}

/// Where a download's bytes go (virsh writes a file), in the order they arrive.
pub trait VolSink {
    fn data(&mut self, bytes: &[u8]) -> Result<()>;

    /// `length` bytes of zeroes that the daemon did not send.
    fn hole(&mut self, length: u64) -> Result<()>;

    /// The transfer reached `stage`. An error aborts the stream and is returned as is.
    fn reached(&mut self, _stage: VolTransferStage) -> Result<()> {
        Ok(())
    }
}
