//! Storage pools and volumes (testStoragePool* / testStorageVol* in test_driver.c): every pool
//! claims 100 GiB, volumes only move the allocation counters, and the object list keeps
//! libvirt's quirks (redefining a pool keeps its live definition but resets its counters).

use virtsh_api::flags::list_pools as lf;
use virtsh_api::flags::vol_create as vc;
use virtsh_api::{
    Error, ErrorKind, Result, StorageDriver, StoragePool, StoragePoolInfo, StorageVol,
    StorageVolInfo,
};
use virtsh_xml::storage_pool::StoragePoolDef;
use virtsh_xml::storage_vol::StorageVolDef;

use crate::{check_flags, xmlconv, Driver, TestConnection};

/// defaultPoolCap: 100 GiB.
pub(crate) const DEFAULT_POOL_CAP: u64 = 100 * 1024 * 1024 * 1024;
/// VIR_STORAGE_POOL_DEFINE_VALIDATE
const DEFINE_VALIDATE: u32 = 1 << 0;

pub(crate) struct PoolObj {
    pub def: StoragePoolDef,
    pub active: bool,
    /// libvirt's configFile: set for persistent pools.
    pub config_file: bool,
    pub autostart: bool,
    pub vols: Vec<StorageVolDef>,
}

impl PoolObj {
    pub(crate) fn new(def: StoragePoolDef) -> PoolObj {
        PoolObj {
            def,
            active: false,
            config_file: false,
            autostart: false,
            vols: Vec::new(),
        }
    }

    fn handle(&self) -> StoragePool {
        StoragePool {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
        }
    }

    fn vol_handle(&self, vol: &StorageVolDef) -> StorageVol {
        StorageVol {
            pool: self.def.name.clone(),
            name: vol.name.clone(),
            key: vol.key.clone().unwrap_or_default(),
        }
    }

    /// testStoragePoolObjSetDefaults: 100 GiB free, and a config file (persistent).
    pub(crate) fn set_defaults(&mut self) {
        self.def.capacity = DEFAULT_POOL_CAP;
        self.def.allocation = 0;
        self.def.available = DEFAULT_POOL_CAP;
        self.config_file = true;
    }

    /// Add a volume and count its allocation (virStoragePoolObjAddVol and the bookkeeping
    /// around it).
    pub(crate) fn add_vol(&mut self, vol: StorageVolDef) {
        self.def.allocation = self.def.allocation.saturating_add(vol.allocation);
        self.def.available = self.def.capacity.saturating_sub(self.def.allocation);
        self.vols.push(vol);
    }

    fn vol_index(&self, name: &str) -> Result<usize> {
        self.vols
            .iter()
            .position(|v| v.name == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoStorageVol,
                    format!("no storage vol with matching name '{name}'"),
                )
            })
    }

    fn matches(&self, flags: u32) -> bool {
        let pick = |a: u32, b: u32, v: bool| {
            flags & (a | b) == 0
                || flags & (a | b) == a | b
                || (flags & a != 0 && v)
                || (flags & b != 0 && !v)
        };
        let types: u32 = lf::TYPES.iter().map(|(_, bit)| bit).sum();
        let type_ok = flags & types == 0
            || lf::TYPES
                .iter()
                .any(|(t, bit)| flags & bit != 0 && *t == self.def.pool_type);
        pick(lf::ACTIVE, lf::INACTIVE, self.active)
            && pick(lf::PERSISTENT, lf::TRANSIENT, self.config_file)
            && pick(lf::AUTOSTART, lf::NO_AUTOSTART, self.autostart)
            && type_ok
    }
}

/// testStorageVolumeTypeForPool: the virStorageVolType volumes of a pool type report.
fn vol_type_for_pool(pool_type: &str) -> i32 {
    match pool_type {
        "dir" | "fs" | "netfs" | "vstorage" => 0,
        "sheepdog" | "iscsi-direct" | "gluster" | "rbd" => 3,
        _ => 1,
    }
}

pub(crate) fn parse_pool(xml: &str) -> Result<StoragePoolDef> {
    StoragePoolDef::parse(xml).map_err(|e| xmlconv::xml_error(&e, "storage_pool_definition", xml))
}

pub(crate) fn parse_vol(xml: &str, pool_type: &str) -> Result<StorageVolDef> {
    StorageVolDef::parse(xml, pool_type)
        .map_err(|e| xmlconv::xml_error(&e, "storage_volume_definition", xml))
}

/// virStoragePoolObjSourceFindDuplicate: another pool already using the same storage.
fn same_source(a: &StoragePoolDef, b: &StoragePoolDef) -> bool {
    if a.pool_type != b.pool_type {
        return false;
    }
    let devices = |d: &StoragePoolDef| -> Vec<String> {
        d.source.devices.iter().map(|x| x.path.clone()).collect()
    };
    match a.pool_type.as_str() {
        "dir" => a.target_path.is_some() && a.target_path == b.target_path,
        "netfs" | "gluster" => {
            a.source.dir == b.source.dir
                && a.source.hosts.first().map(|h| &h.name)
                    == b.source.hosts.first().map(|h| &h.name)
        }
        "fs" | "disk" | "zfs" => !devices(a).is_empty() && devices(a) == devices(b),
        "logical" | "rbd" | "sheepdog" | "vstorage" => {
            a.source.name.is_some() && a.source.name == b.source.name
        }
        _ => false,
    }
}

impl Driver {
    fn pool_by_name(&self, name: &str) -> Result<usize> {
        self.pools
            .iter()
            .position(|p| p.def.name == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoStoragePool,
                    format!("no storage pool with matching name '{name}'"),
                )
            })
    }

    fn pool_by_uuid(&self, uuid: &uuid::Uuid) -> Result<usize> {
        self.pools
            .iter()
            .position(|p| p.def.uuid == *uuid)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoStoragePool,
                    format!("no storage pool with matching uuid '{}'", uuid.hyphenated()),
                )
            })
    }

    /// testStoragePoolObjFindActiveByName
    fn active_pool(&self, name: &str) -> Result<usize> {
        let i = self.pool_by_name(name)?;
        if !self.pools[i].active {
            return Err(Error::invalid_op(format!(
                "storage pool '{name}' is not active"
            )));
        }
        Ok(i)
    }

    /// testStoragePoolObjFindInactiveByName
    fn inactive_pool(&self, name: &str) -> Result<usize> {
        let i = self.pool_by_name(name)?;
        if self.pools[i].active {
            return Err(Error::invalid_op(format!(
                "storage pool '{name}' is active"
            )));
        }
        Ok(i)
    }

    /// virStoragePoolObjListAdd: returns the index and whether the pool existed. An existing
    /// pool takes the definition only when `live` (create); a define parks it unused.
    pub(crate) fn add_pool(&mut self, def: StoragePoolDef, live: bool) -> Result<(usize, bool)> {
        if let Some(other) = self
            .pools
            .iter()
            .find(|p| p.def.name != def.name && same_source(&p.def, &def))
        {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!("Storage source conflict with pool: '{}'", other.def.name),
            ));
        }
        if let Some(i) = self.pools.iter().position(|p| p.def.uuid == def.uuid) {
            let obj = &mut self.pools[i];
            if obj.def.name != def.name {
                return Err(Error::new(
                    ErrorKind::OperationFailed,
                    format!(
                        "pool '{}' is already defined with uuid {}",
                        obj.def.name,
                        obj.def.uuid.hyphenated()
                    ),
                ));
            }
            if live && obj.active {
                return Err(Error::invalid_op(format!(
                    "pool is already active as '{}'",
                    obj.def.name
                )));
            }
            if live {
                obj.def = def;
            }
            return Ok((i, true));
        }
        if let Some(obj) = self.pools.iter().find(|p| p.def.name == def.name) {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                format!(
                    "pool '{}' already exists with uuid {}",
                    def.name,
                    obj.def.uuid.hyphenated()
                ),
            ));
        }
        self.pools.push(PoolObj::new(def));
        Ok((self.pools.len() - 1, false))
    }

    /// The active pool holding the volume a handle names, and the volume's index.
    fn vol_of(&self, vol: &StorageVol) -> Result<(usize, usize)> {
        let p = self.active_pool(&vol.pool)?;
        let v = self.pools[p].vol_index(&vol.name)?;
        Ok((p, v))
    }

    fn find_vol(&self, pred: impl Fn(&StorageVolDef) -> bool) -> Option<StorageVol> {
        self.pools
            .iter()
            .filter(|p| p.active)
            .find_map(|p| p.vols.iter().find(|v| pred(v)).map(|v| p.vol_handle(v)))
    }
}

impl StorageDriver for TestConnection {
    fn list_all_pools(&self, flags: u32) -> Result<Vec<StoragePool>> {
        let types: u32 = lf::TYPES.iter().map(|(_, bit)| bit).sum();
        check_flags(flags, 0x3F | types, "testConnectListAllStoragePools")?;
        let drv = self.lock();
        Ok(drv
            .pools
            .iter()
            .filter(|p| p.matches(flags))
            .map(PoolObj::handle)
            .collect())
    }

    fn lookup_pool_by_name(&self, name: &str) -> Result<StoragePool> {
        let drv = self.lock();
        let i = drv.pool_by_name(name)?;
        Ok(drv.pools[i].handle())
    }

    fn lookup_pool_by_uuid(&self, uuid: &uuid::Uuid) -> Result<StoragePool> {
        let drv = self.lock();
        let i = drv.pool_by_uuid(uuid)?;
        Ok(drv.pools[i].handle())
    }

    fn pool_info(&self, pool: &StoragePool) -> Result<StoragePoolInfo> {
        let drv = self.lock();
        let p = &drv.pools[drv.pool_by_name(&pool.name)?];
        Ok(StoragePoolInfo {
            state: if p.active { 2 } else { 0 },
            capacity: p.def.capacity,
            allocation: p.def.allocation,
            available: p.def.available,
        })
    }

    fn pool_xml(&self, pool: &StoragePool, flags: u32) -> Result<String> {
        check_flags(flags, 0, "testStoragePoolGetXMLDesc")?;
        let drv = self.lock();
        Ok(drv.pools[drv.pool_by_name(&pool.name)?].def.to_xml())
    }

    fn define_pool(&self, xml: &str, flags: u32) -> Result<StoragePool> {
        check_flags(flags, DEFINE_VALIDATE, "testStoragePoolDefineXML")?;
        let def = parse_pool(xml)?;
        let mut drv = self.lock();
        let (i, _) = drv.add_pool(def, false)?;
        drv.pools[i].set_defaults();
        Ok(drv.pools[i].handle())
    }

    fn create_pool(&self, xml: &str, flags: u32) -> Result<StoragePool> {
        check_flags(flags, 0, "testStoragePoolCreateXML")?;
        let def = parse_pool(xml)?;
        let mut drv = self.lock();
        let (i, _) = drv.add_pool(def, true)?;
        let obj = &mut drv.pools[i];
        obj.set_defaults();
        // A pool started from XML is transient, whatever it was before.
        obj.config_file = false;
        obj.active = true;
        Ok(obj.handle())
    }

    fn build_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testStoragePoolBuild")?;
        self.lock().inactive_pool(&pool.name).map(|_| ())
    }

    fn start_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testStoragePoolCreate")?;
        let mut drv = self.lock();
        let i = drv.inactive_pool(&pool.name)?;
        drv.pools[i].active = true;
        Ok(())
    }

    fn destroy_pool(&self, pool: &StoragePool) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.active_pool(&pool.name)?;
        drv.pools[i].active = false;
        if !drv.pools[i].config_file {
            drv.pools.remove(i);
        }
        Ok(())
    }

    fn delete_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testStoragePoolDelete")?;
        self.lock().inactive_pool(&pool.name).map(|_| ())
    }

    fn undefine_pool(&self, pool: &StoragePool) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.inactive_pool(&pool.name)?;
        drv.pools.remove(i);
        Ok(())
    }

    fn refresh_pool(&self, pool: &StoragePool, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testStoragePoolRefresh")?;
        self.lock().active_pool(&pool.name).map(|_| ())
    }

    fn pool_autostart(&self, pool: &StoragePool) -> Result<bool> {
        let drv = self.lock();
        let p = &drv.pools[drv.pool_by_name(&pool.name)?];
        Ok(p.config_file && p.autostart)
    }

    fn set_pool_autostart(&self, pool: &StoragePool, on: bool) -> Result<()> {
        let mut drv = self.lock();
        let i = drv.pool_by_name(&pool.name)?;
        let p = &mut drv.pools[i];
        if !p.config_file {
            return Err(Error::invalid_arg("pool has no config file"));
        }
        p.autostart = on;
        Ok(())
    }

    fn pool_is_active(&self, pool: &StoragePool) -> Result<bool> {
        let drv = self.lock();
        Ok(drv.pools[drv.pool_by_uuid(&pool.uuid)?].active)
    }

    fn pool_is_persistent(&self, pool: &StoragePool) -> Result<bool> {
        let drv = self.lock();
        Ok(drv.pools[drv.pool_by_uuid(&pool.uuid)?].config_file)
    }

    fn list_all_volumes(&self, pool: &StoragePool, flags: u32) -> Result<Vec<StorageVol>> {
        check_flags(flags, 0, "testStoragePoolListAllVolumes")?;
        let drv = self.lock();
        let p = &drv.pools[drv.pool_by_uuid(&pool.uuid)?];
        if !p.active {
            return Err(Error::invalid_op("storage pool is not active"));
        }
        Ok(p.vols.iter().map(|v| p.vol_handle(v)).collect())
    }

    fn lookup_vol_by_name(&self, pool: &StoragePool, name: &str) -> Result<StorageVol> {
        let drv = self.lock();
        let p = &drv.pools[drv.active_pool(&pool.name)?];
        Ok(p.vol_handle(&p.vols[p.vol_index(name)?]))
    }

    fn lookup_vol_by_path(&self, path: &str) -> Result<StorageVol> {
        self.lock()
            .find_vol(|v| v.target_path.as_deref() == Some(path))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoStorageVol,
                    format!("no storage vol with matching path '{path}'"),
                )
            })
    }

    fn lookup_vol_by_key(&self, key: &str) -> Result<StorageVol> {
        self.lock()
            .find_vol(|v| v.key.as_deref() == Some(key))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NoStorageVol,
                    format!("no storage vol with matching key '{key}'"),
                )
            })
    }

    fn vol_info(&self, vol: &StorageVol) -> Result<StorageVolInfo> {
        let drv = self.lock();
        let (p, v) = drv.vol_of(vol)?;
        let pool = &drv.pools[p];
        let def = &pool.vols[v];
        Ok(StorageVolInfo {
            vol_type: vol_type_for_pool(&pool.def.pool_type),
            capacity: def.capacity,
            allocation: def.allocation,
        })
    }

    fn vol_xml(&self, vol: &StorageVol, flags: u32) -> Result<String> {
        check_flags(flags, 0, "testStorageVolGetXMLDesc")?;
        let drv = self.lock();
        let (p, v) = drv.vol_of(vol)?;
        Ok(drv.pools[p].vols[v].to_xml())
    }

    fn vol_path(&self, vol: &StorageVol) -> Result<String> {
        let drv = self.lock();
        let (p, v) = drv.vol_of(vol)?;
        Ok(drv.pools[p].vols[v].target_path.clone().unwrap_or_default())
    }

    /// testStorageVolCreateXML: the VALIDATE flag passes the driver's check but reaches
    /// virStorageVolDefParseXML, which refuses it, as in libvirt 9.0.
    fn create_vol(&self, pool: &StoragePool, xml: &str, flags: u32) -> Result<StorageVol> {
        check_flags(flags, vc::VALIDATE, "testStorageVolCreateXML")?;
        let mut drv = self.lock();
        let i = drv.active_pool(&pool.name)?;
        check_flags(flags, 0, "virStorageVolDefParseXML")?;
        let p = &mut drv.pools[i];
        let mut vol = parse_vol(xml, &p.def.pool_type)?;
        if p.vols.iter().any(|v| v.name == vol.name) {
            return Err(Error::new(
                ErrorKind::OperationFailed,
                "storage vol already exists",
            ));
        }
        if p.def.allocation.saturating_add(vol.allocation) > p.def.capacity {
            return Err(Error::internal(format!(
                "Not enough free space in pool for volume '{}'",
                vol.name
            )));
        }
        let path = format!(
            "{}/{}",
            p.def.target_path.as_deref().unwrap_or(""),
            vol.name
        );
        vol.key = Some(path.clone());
        vol.target_path = Some(path);
        let handle = p.vol_handle(&vol);
        p.add_vol(vol);
        Ok(handle)
    }

    fn delete_vol(&self, vol: &StorageVol, flags: u32) -> Result<()> {
        check_flags(flags, 0, "testStorageVolDelete")?;
        let mut drv = self.lock();
        let (p, v) = drv.vol_of(vol)?;
        let pool = &mut drv.pools[p];
        let gone = pool.vols.remove(v);
        pool.def.allocation = pool.def.allocation.saturating_sub(gone.allocation);
        pool.def.available = pool.def.capacity.saturating_sub(pool.def.allocation);
        Ok(())
    }
}
