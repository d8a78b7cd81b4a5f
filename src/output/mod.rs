//! Output helpers: virsh's table layout and number formatting.

pub mod progress;
pub mod table;

pub use table::Table;

/// virsh's vshPrettyCapacity: the value scaled to the largest binary unit below 1024.
pub fn pretty_capacity(val: u64) -> (f64, &'static str) {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut limit: f64 = 1024.0;
    let v = val as f64;
    for unit in UNITS.iter().take(6) {
        if v < limit {
            return (v / (limit / 1024.0), unit);
        }
        limit *= 1024.0;
    }
    (v / (limit / 1024.0), UNITS[6])
}

/// "0-3,5" style list of the set bits.
pub fn cpu_ranges(bits: &[bool]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < bits.len() {
        if bits[i] {
            let start = i;
            while i + 1 < bits.len() && bits[i + 1] {
                i += 1;
            }
            parts.push(if start == i {
                start.to_string()
            } else {
                format!("{start}-{i}")
            });
        }
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_units() {
        assert_eq!(pretty_capacity(100), (100.0, "B"));
        assert_eq!(pretty_capacity(2048), (2.0, "KiB"));
        assert_eq!(pretty_capacity(107374182400), (100.0, "GiB"));
    }

    #[test]
    fn ranges() {
        assert_eq!(cpu_ranges(&[true, true, false, true]), "0-1,3");
        assert_eq!(cpu_ranges(&[false]), "");
    }
}
