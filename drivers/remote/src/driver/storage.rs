//! StorageDriver over the protocol: virStoragePool* and virStorageVol*, each the procedure
//! libvirt's `remote_driver.c` makes for it; volume contents travel on streams
//! (`STORAGE_VOL_UPLOAD` / `STORAGE_VOL_DOWNLOAD`).

use uuid::Uuid;
use virtsh_api::storage::{VolChunk, VolSink, VolSource, VolTransferStage};
use virtsh_api::{Error, Result, StoragePool, StoragePoolInfo, StorageVol, StorageVolInfo};

use super::handles::{
    pool_from_remote, pool_to_remote, uuid_to_remote, vol_from_remote, vol_to_remote,
};
use super::RemoteDriver;
use crate::error::RemoteError;
use crate::generated::remote::*;
use crate::procedure::Procedure;
use crate::stream::{Stream, StreamData, STREAM_CHUNK};

/// VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM (the same bit as ..._DOWNLOAD_SPARSE_STREAM).
const SPARSE_STREAM: u32 = 1 << 0;

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

    /// virStorageVolUpload, then virStreamSendAll or (VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
    /// virStreamSparseSendAll, then virStreamFinish: the source's pieces go out as they come.
    fn upload_vol(
        &self,
        vol: &StorageVol,
        offset: u64,
        length: u64,
        source: &mut dyn VolSource,
        flags: u32,
    ) -> Result<()> {
        let args = RemoteStorageVolUploadArgs {
            vol: vol_to_remote(vol),
            offset,
            length,
            flags,
        };
        let mut stream = open_stream::<procs::StorageVolUpload>(self, &args)?;
        let pumped = send_all(&mut stream, source, flags & SPARSE_STREAM != 0);
        end_stream(stream, pumped)
    }

    /// virStorageVolDownload, virStreamSparseRecvAll and virStreamFinish: data and holes go
    /// to the sink as they arrive.
    fn download_vol(
        &self,
        vol: &StorageVol,
        offset: u64,
        length: u64,
        sink: &mut dyn VolSink,
        flags: u32,
    ) -> Result<()> {
        let args = RemoteStorageVolDownloadArgs {
            vol: vol_to_remote(vol),
            offset,
            length,
            flags,
        };
        let mut stream = open_stream::<procs::StorageVolDownload>(self, &args)?;
        let pumped = recv_all(&mut stream, sink);
        end_stream(stream, pumped)
    }
}

/// Why moving a volume's bytes stopped early.
enum Stopped {
    /// The daemon reported a failure (or the connection broke): the stream has ended on its
    /// side already, so nothing is left to abort, and an abort would wait for an answer that
    /// never comes.
    Ended(Error),
    /// Our side failed (the caller's file, a piece that cannot go on the wire) while the
    /// daemon still holds the stream open: it is aborted, as virStreamSendAll does.
    Abort(Error),
}

/// Finishes the stream after a complete transfer, or ends it as `pumped` says.
fn end_stream(stream: Stream, pumped: std::result::Result<(), Stopped>) -> Result<()> {
    match pumped {
        Ok(()) => stream.finish().map_err(Error::from),
        Err(Stopped::Ended(e)) => Err(e),
        Err(Stopped::Abort(e)) => {
            // The caller hears its own failure; an abort that fails too adds nothing to it.
            let _ = stream.abort();
            Err(e)
        }
    }
}

/// virStreamSendAll / virStreamSparseSendAll: holes go as holes only on a `sparse` stream.
fn send_all(
    stream: &mut Stream,
    source: &mut dyn VolSource,
    sparse: bool,
) -> std::result::Result<(), Stopped> {
    source
        .reached(VolTransferStage::Transfer)
        .map_err(Stopped::Abort)?;
    loop {
        let sent = match source.next_chunk(STREAM_CHUNK).map_err(Stopped::Abort)? {
            // Empty data on the wire would mean end of file: there is nothing to send.
            VolChunk::Data(bytes) if bytes.is_empty() => continue,
            VolChunk::Data(bytes) => stream.send(&bytes),
            VolChunk::Hole(len) if sparse => {
                let len = i64::try_from(len).map_err(|_| {
                    Stopped::Abort(Error::invalid_arg(format!(
                        "hole of {len} bytes is too long"
                    )))
                })?;
                stream.send_hole(len, 0)
            }
            // A stream opened without the sparse flag takes no holes (libvirt refuses them):
            // the zeroes go as data, and the volume reads the same.
            VolChunk::Hole(len) => send_zeroes(stream, len),
            VolChunk::End => break,
        };
        sent.map_err(|e| Stopped::Ended(e.into()))?;
    }
    source
        .reached(VolTransferStage::Finish)
        .map_err(Stopped::Abort)
}

/// virStreamSparseRecvAll: every piece to the sink until the daemon's end of file.
fn recv_all(stream: &mut Stream, sink: &mut dyn VolSink) -> std::result::Result<(), Stopped> {
    sink.reached(VolTransferStage::Transfer)
        .map_err(Stopped::Abort)?;
    loop {
        let taken = match stream.recv().map_err(|e| Stopped::Ended(e.into()))? {
            StreamData::Data(bytes) => sink.data(&bytes),
            StreamData::Hole { length, .. } => u64::try_from(length)
                .map_err(|_| {
                    Error::from(RemoteError::Protocol(format!(
                        "Invalid hole length {length} in the stream"
                    )))
                })
                .and_then(|len| sink.hole(len)),
            StreamData::Eof => break,
        };
        taken.map_err(Stopped::Abort)?;
    }
    sink.reached(VolTransferStage::Finish)
        .map_err(Stopped::Abort)
}

/// A hole as zeroes, for a stream that takes no holes; never more than a chunk in memory.
fn send_zeroes(stream: &mut Stream, len: u64) -> std::result::Result<(), RemoteError> {
    let zeroes = vec![0u8; STREAM_CHUNK.min(usize::try_from(len).unwrap_or(usize::MAX))];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left).map_or(zeroes.len(), |l| l.min(zeroes.len()));
        stream.send(&zeroes[..n])?;
        left -= n as u64;
    }
    Ok(())
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
