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
    /// virStorageVolUpload: the bytes to write at `offset` (`length` 0 = to the end).
    fn upload_vol(
        &self,
        _vol: &StorageVol,
        _offset: u64,
        _length: u64,
        _data: &[u8],
        _flags: u32,
    ) -> Result<()> {
        Err(Error::unsupported("virStorageVolUpload"))
    }
    /// virStorageVolDownload: the bytes from `offset` (`length` 0 = to the end).
    fn download_vol(
        &self,
        _vol: &StorageVol,
        _offset: u64,
        _length: u64,
        _flags: u32,
    ) -> Result<Vec<u8>> {
        Err(Error::unsupported("virStorageVolDownload"))
    }
}
