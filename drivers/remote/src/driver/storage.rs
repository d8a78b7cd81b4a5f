//! StorageDriver over the protocol: virStoragePool* and virStorageVol*, each the procedure
//! libvirt's `remote_driver.c` makes for it; volume contents travel on streams
//! (`STORAGE_VOL_UPLOAD` / `STORAGE_VOL_DOWNLOAD`).

use uuid::Uuid;
use virtsh_api::{Error, Result, StoragePool, StoragePoolInfo, StorageVol, StorageVolInfo};

use super::handles::{
    pool_from_remote, pool_to_remote, uuid_to_remote, vol_from_remote, vol_to_remote,
};
use super::RemoteDriver;
use crate::error::RemoteError;
use crate::generated::remote::*;
use crate::procedure::Procedure;
use crate::stream::{Stream, StreamData};

/// The largest hole of a download stream this driver fills with zeroes (a daemon sends holes
/// of at most its read buffer; anything beyond this is refused rather than allocated).
const MAX_HOLE: usize = 1 << 30;

impl virtsh_api::StorageDriver for RemoteDriver {
    fn list_all_pools(&self, flags: u32) -> Result<Vec<StoragePool>> {
        let ret = self.call::<procs::ConnectListAllStoragePools>(
            &RemoteConnectListAllStoragePoolsArgs {
                need_results: 1,
                flags,
            },
        )?;
        Ok(ret.pools.into_iter().map(pool_from_remote).collect())
    }

    fn lookup_pool_by_name(&self, name: &str) -> Result<StoragePool> {
        let ret =
            self.call::<procs::StoragePoolLookupByName>(&RemoteStoragePoolLookupByNameArgs {
                name: name.to_string(),
            })?;
        Ok(pool_from_remote(ret.pool))
    }

    fn lookup_pool_by_uuid(&self, uuid: &Uuid) -> Result<StoragePool> {
        let ret =
            self.call::<procs::StoragePoolLookupByUuid>(&RemoteStoragePoolLookupByUuidArgs {
                uuid: uuid_to_remote(uuid),
            })?;
        Ok(pool_from_remote(ret.pool))
    }

    fn pool_info(&self, pool: &StoragePool) -> Result<StoragePoolInfo> {
        let ret = self.call::<procs::StoragePoolGetInfo>(&RemoteStoragePoolGetInfoArgs {
            pool: pool_to_remote(pool),
        })?;
        Ok(StoragePoolInfo {
            state: i32::from(ret.state),
            capacity: ret.capacity,
            allocation: ret.allocation,
            available: ret.available,
        })
    }

    fn pool_xml(&self, pool: &StoragePool, flags: u32) -> Result<String> {
        let ret = self.call::<procs::StoragePoolGetXmlDesc>(&RemoteStoragePoolGetXmlDescArgs {
            pool: pool_to_remote(pool),
            flags,
        })?;
        Ok(ret.xml)
    }

    fn define_pool(&self, xml: &str, flags: u32) -> Result<StoragePool> {
        let ret = self.call::<procs::StoragePoolDefineXml>(&RemoteStoragePoolDefineXmlArgs {
            xml: xml.to_string(),
            flags,
        })?;
        Ok(pool_from_remote(ret.pool))
    }

    fn create_pool(&self, xml: &str, flags: u32) -> Result<StoragePool> {
        let ret = self.call::<procs::StoragePoolCreateXml>(&RemoteStoragePoolCreateXmlArgs {
            xml: xml.to_string(),
            flags,
        })?;
        Ok(pool_from_remote(ret.pool))
    }

    fn build_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        self.call::<procs::StoragePoolBuild>(&RemoteStoragePoolBuildArgs {
            pool: pool_to_remote(pool),
            flags,
        })
    }

    fn start_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        self.call::<procs::StoragePoolCreate>(&RemoteStoragePoolCreateArgs {
            pool: pool_to_remote(pool),
            flags,
        })
    }

    fn destroy_pool(&self, pool: &StoragePool) -> Result<()> {
        self.call::<procs::StoragePoolDestroy>(&RemoteStoragePoolDestroyArgs {
            pool: pool_to_remote(pool),
        })
    }

    fn delete_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        self.call::<procs::StoragePoolDelete>(&RemoteStoragePoolDeleteArgs {
            pool: pool_to_remote(pool),
            flags,
        })
    }

    fn undefine_pool(&self, pool: &StoragePool) -> Result<()> {
        self.call::<procs::StoragePoolUndefine>(&RemoteStoragePoolUndefineArgs {
            pool: pool_to_remote(pool),
        })
    }

    fn refresh_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        self.call::<procs::StoragePoolRefresh>(&RemoteStoragePoolRefreshArgs {
            pool: pool_to_remote(pool),
            flags,
        })
    }

    fn pool_autostart(&self, pool: &StoragePool) -> Result<bool> {
        let ret =
            self.call::<procs::StoragePoolGetAutostart>(&RemoteStoragePoolGetAutostartArgs {
                pool: pool_to_remote(pool),
            })?;
        Ok(ret.autostart != 0)
    }

    fn set_pool_autostart(&self, pool: &StoragePool, on: bool) -> Result<()> {
        self.call::<procs::StoragePoolSetAutostart>(&RemoteStoragePoolSetAutostartArgs {
            pool: pool_to_remote(pool),
            autostart: i32::from(on),
        })
    }

    fn pool_is_active(&self, pool: &StoragePool) -> Result<bool> {
        let ret = self.call::<procs::StoragePoolIsActive>(&RemoteStoragePoolIsActiveArgs {
            pool: pool_to_remote(pool),
        })?;
        Ok(ret.active != 0)
    }

    fn pool_is_persistent(&self, pool: &StoragePool) -> Result<bool> {
        let ret =
            self.call::<procs::StoragePoolIsPersistent>(&RemoteStoragePoolIsPersistentArgs {
                pool: pool_to_remote(pool),
            })?;
        Ok(ret.persistent != 0)
    }

    fn list_all_volumes(&self, pool: &StoragePool, flags: u32) -> Result<Vec<StorageVol>> {
        let ret =
            self.call::<procs::StoragePoolListAllVolumes>(&RemoteStoragePoolListAllVolumesArgs {
                pool: pool_to_remote(pool),
                need_results: 1,
                flags,
            })?;
        Ok(ret.vols.into_iter().map(vol_from_remote).collect())
    }

    fn lookup_vol_by_name(&self, pool: &StoragePool, name: &str) -> Result<StorageVol> {
        let ret =
            self.call::<procs::StorageVolLookupByName>(&RemoteStorageVolLookupByNameArgs {
                pool: pool_to_remote(pool),
                name: name.to_string(),
            })?;
        Ok(vol_from_remote(ret.vol))
    }

    fn lookup_vol_by_path(&self, path: &str) -> Result<StorageVol> {
        let ret =
            self.call::<procs::StorageVolLookupByPath>(&RemoteStorageVolLookupByPathArgs {
                path: path.to_string(),
            })?;
        Ok(vol_from_remote(ret.vol))
    }

    fn lookup_vol_by_key(&self, key: &str) -> Result<StorageVol> {
        let ret = self.call::<procs::StorageVolLookupByKey>(&RemoteStorageVolLookupByKeyArgs {
            key: key.to_string(),
        })?;
        Ok(vol_from_remote(ret.vol))
    }

    fn vol_info(&self, vol: &StorageVol) -> Result<StorageVolInfo> {
        let ret = self.call::<procs::StorageVolGetInfo>(&RemoteStorageVolGetInfoArgs {
            vol: vol_to_remote(vol),
        })?;
        Ok(StorageVolInfo {
            vol_type: i32::from(ret.r#type),
            capacity: ret.capacity,
            allocation: ret.allocation,
        })
    }

    fn vol_xml(&self, vol: &StorageVol, flags: u32) -> Result<String> {
        let ret = self.call::<procs::StorageVolGetXmlDesc>(&RemoteStorageVolGetXmlDescArgs {
            vol: vol_to_remote(vol),
            flags,
        })?;
        Ok(ret.xml)
    }

    fn vol_path(&self, vol: &StorageVol) -> Result<String> {
        let ret = self.call::<procs::StorageVolGetPath>(&RemoteStorageVolGetPathArgs {
            vol: vol_to_remote(vol),
        })?;
        Ok(ret.name)
    }

    fn create_vol(&self, pool: &StoragePool, xml: &str, flags: u32) -> Result<StorageVol> {
        let ret = self.call::<procs::StorageVolCreateXml>(&RemoteStorageVolCreateXmlArgs {
            pool: pool_to_remote(pool),
            xml: xml.to_string(),
            flags,
        })?;
        Ok(vol_from_remote(ret.vol))
    }

    fn delete_vol(&self, vol: &StorageVol, flags: u32) -> Result<()> {
        self.call::<procs::StorageVolDelete>(&RemoteStorageVolDeleteArgs {
            vol: vol_to_remote(vol),
            flags,
        })
    }

    fn vol_info_flags(&self, vol: &StorageVol, flags: u32) -> Result<StorageVolInfo> {
        let ret =
            self.call::<procs::StorageVolGetInfoFlags>(&RemoteStorageVolGetInfoFlagsArgs {
                vol: vol_to_remote(vol),
                flags,
            })?;
        Ok(StorageVolInfo {
            vol_type: i32::from(ret.r#type),
            capacity: ret.capacity,
            allocation: ret.allocation,
        })
    }

    fn resize_vol(&self, vol: &StorageVol, capacity: u64, flags: u32) -> Result<()> {
        self.call::<procs::StorageVolResize>(&RemoteStorageVolResizeArgs {
            vol: vol_to_remote(vol),
            capacity,
            flags,
        })
    }

    fn wipe_vol(&self, vol: &StorageVol, flags: u32) -> Result<()> {
        self.call::<procs::StorageVolWipe>(&RemoteStorageVolWipeArgs {
            vol: vol_to_remote(vol),
            flags,
        })
    }

    fn wipe_vol_pattern(&self, vol: &StorageVol, algorithm: u32, flags: u32) -> Result<()> {
        self.call::<procs::StorageVolWipePattern>(&RemoteStorageVolWipePatternArgs {
            vol: vol_to_remote(vol),
            algorithm,
            flags,
        })
    }

    /// virStorageVolUpload, virStreamSendAll and virStreamFinish. With
    /// VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM virsh sends the holes of its file (SEEK_HOLE) as
    /// stream holes, which the daemon turns into seek-and-truncate; the bytes given here
    /// carry no holes, so they all go as data: the volume reads the same, and zeroes in a
    /// file that is not sparse overwrite what was there, as virsh's do.
    fn upload_vol(
        &self,
        vol: &StorageVol,
        offset: u64,
        length: u64,
        data: &[u8],
        flags: u32,
    ) -> Result<()> {
        let args = RemoteStorageVolUploadArgs {
            vol: vol_to_remote(vol),
            offset,
            length,
            flags,
        };
        let mut stream = open_stream::<procs::StorageVolUpload>(self, &args)?;
        let sent = stream.send(data);
        // A failure the daemon reported has ended the stream on its side already: nothing is
        // left to abort (and an abort would wait for an answer that never comes).
        sent.map_err(Error::from)?;
        stream.finish().map_err(Error::from)
    }

    /// virStorageVolDownload and virStreamRecvAll (holes of a sparse stream become zeroes),
    /// then virStreamFinish.
    fn download_vol(
        &self,
        vol: &StorageVol,
        offset: u64,
        length: u64,
        flags: u32,
    ) -> Result<Vec<u8>> {
        let args = RemoteStorageVolDownloadArgs {
            vol: vol_to_remote(vol),
            offset,
            length,
            flags,
        };
        let mut stream = open_stream::<procs::StorageVolDownload>(self, &args)?;
        let mut data = Vec::new();
        loop {
            match stream.recv().map_err(Error::from)? {
                StreamData::Data(bytes) => data.extend_from_slice(&bytes),
                StreamData::Hole { length, .. } => {
                    let len = usize::try_from(length)
                        .ok()
                        .filter(|l| *l <= MAX_HOLE)
                        .ok_or_else(|| {
                            Error::from(RemoteError::Protocol(format!(
                                "Invalid hole length {length} in the stream"
                            )))
                        })?;
                    data.resize(data.len() + len, 0);
                }
                StreamData::Eof => break,
            }
        }
        stream.finish().map_err(Error::from)?;
        Ok(data)
    }
}

/// Makes procedure `P`, which opens a stream, and hands back the stream. The connection's
/// lock is held for the call only; the stream has its own channel.
fn open_stream<P: Procedure<Ret = ()>>(drv: &RemoteDriver, args: &P::Args) -> Result<Stream> {
    let mut session = drv.session()?;
    let ((), stream) = session
        .client
        .call_with_stream::<P::Args, ()>(P::PROGRAM, P::PROC, args)
        .map_err(Error::from)?;
    Ok(stream)
}
