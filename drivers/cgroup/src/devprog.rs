//! The v2 device filter as an eBPF program, assembled by hand from the rules.
//!
//! Hand-written because what is needed is a dozen instructions of five kinds, and no small,
//! well-kept crate does just that: the eBPF crates (aya, libbpf-rs, redbpf) bring a loader,
//! ELF and BTF handling, or a C toolchain, for what is here an array of 8-byte words. runc,
//! crun and systemd generate the same kind of program the same way.
//!
//! The kernel calls the program with a `struct bpf_cgroup_dev_ctx` for every open and mknod of
//! a device node: `access_type` (u32 at offset 0: the `BPF_DEVCG_ACC_*` bits shifted left by
//! 16, or'ed with the `BPF_DEVCG_DEV_*` kind), `major` (offset 4), `minor` (offset 8). It
//! returns 1 to allow, 0 to deny (EPERM). The program:
//!
//! ```text
//!     r2 = ctx->access_type; r3 = r2 & 0xffff (kind); r2 >>= 16 (access)
//!     r4 = ctx->major; r5 = ctx->minor
//!   for each rule:
//!     if r3 != KIND goto next             (not for `a` rules)
//!     r1 = r2; r1 &= ~ACCESS; if r1 != 0 goto next   (not for `rwm` rules)
//!     if r4 != MAJOR goto next            (not for `*`)
//!     if r5 != MINOR goto next            (not for `*`)
//!     r0 = 1; exit
//!   next: ...
//!     r0 = 0; exit
//! ```
//!
//! Majors and minors are at most 12 and 20 bits, so they fit the instructions' signed 32-bit
//! immediates, which the kernel sign-extends before a 64-bit compare.

use crate::{DeviceKind, DeviceRule};

/// Instruction classes, sizes, modes, operations (linux/bpf_common.h, linux/bpf.h).
const BPF_LDX: u8 = 0x01;
const BPF_ALU64: u8 = 0x07;
const BPF_JMP: u8 = 0x05;
const BPF_W: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_AND: u8 = 0x50;
const BPF_RSH: u8 = 0x70;
const BPF_MOV: u8 = 0xb0;
const BPF_JNE: u8 = 0x50;
const BPF_EXIT: u8 = 0x90;

/// `BPF_DEVCG_DEV_BLOCK` and `_CHAR`.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

/// One `struct bpf_insn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    /// `dst = *(u32 *)(src + off)`
    fn load_u32(dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
    }
    /// `dst = src` (64 bits)
    fn mov_reg(dst: u8, src: u8) -> Insn {
        Insn::new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
    }
    /// `dst = imm`
    fn mov_imm(dst: u8, imm: i32) -> Insn {
        Insn::new(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
    }
    /// `dst &= imm`
    fn and_imm(dst: u8, imm: i32) -> Insn {
        Insn::new(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
    }
    /// `dst >>= imm`
    fn rsh_imm(dst: u8, imm: i32) -> Insn {
        Insn::new(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
    }
    /// `if dst != imm goto +off`
    fn jne_imm(dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
    }
    fn exit() -> Insn {
        Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
    }

    fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// The 8 bytes the kernel reads. The two 4-bit register fields are C bitfields: `dst_reg`
    /// takes the low nibble on little-endian machines and the high one on big-endian ones.
    pub fn encode(&self) -> [u8; 8] {
        let regs = if cfg!(target_endian = "little") {
            (self.dst & 0xf) | (self.src << 4)
        } else {
            (self.dst << 4) | (self.src & 0xf)
        };
        let off = self.off.to_ne_bytes();
        let imm = self.imm.to_ne_bytes();
        [
            self.code, regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3],
        ]
    }
}

/// The program allowing exactly `rules` (checked: majors and minors in range, access not
/// empty).
pub(crate) fn device_program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut p = vec![
        Insn::load_u32(2, 1, 0),
        Insn::mov_reg(3, 2),
        Insn::and_imm(3, 0xffff),
        Insn::rsh_imm(2, 16),
        Insn::load_u32(4, 1, 4),
        Insn::load_u32(5, 1, 8),
    ];
    for r in rules {
        // Each check jumps past the rest of its block: built as (check, value) first, the
        // offsets filled in once the block's length is known.
        let mut checks: Vec<Vec<Insn>> = Vec::new();
        match r.kind {
            DeviceKind::Char => checks.push(vec![Insn::jne_imm(3, DEV_CHAR, 0)]),
            DeviceKind::Block => checks.push(vec![Insn::jne_imm(3, DEV_BLOCK, 0)]),
            DeviceKind::All => {}
        }
        let denied = 7 & !r.access.bits();
        if denied != 0 {
            checks.push(vec![
                Insn::mov_reg(1, 2),
                Insn::and_imm(1, i32::from(denied)),
                Insn::jne_imm(1, 0, 0),
            ]);
        }
        if let Some(m) = r.major {
            checks.push(vec![Insn::jne_imm(4, m as i32, 0)]);
        }
        if let Some(m) = r.minor {
            checks.push(vec![Insn::jne_imm(5, m as i32, 0)]);
        }
        let mut block: Vec<Insn> = checks.into_iter().flatten().collect();
        block.push(Insn::mov_imm(0, 1));
        block.push(Insn::exit());
        let len = block.len();
        for (i, insn) in block.iter_mut().enumerate() {
            if insn.code == BPF_JMP | BPF_JNE | BPF_K {
                // Relative to the next instruction; a block is at most 9 long.
                insn.off = (len - 1 - i) as i16;
            }
        }
        p.extend(block);
    }
    p.push(Insn::mov_imm(0, 0));
    p.push(Insn::exit());
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceAccess;

    /// Run `prog` on a device context the way the kernel would, for the instructions
    /// `device_program` emits.
    fn run(prog: &[Insn], kind: i32, access: DeviceAccess, major: u32, minor: u32) -> u64 {
        let ctx = [(u32::from(access.bits()) << 16) | kind as u32, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        for _ in 0..10_000 {
            let i = prog[pc];
            pc += 1;
            let (d, s, imm) = (i.dst as usize, i.src as usize, i.imm as i64 as u64);
            match i.code {
                0x61 => {
                    assert_eq!(s, 1, "loads only from the context");
                    r[d] = u64::from(ctx[i.off as usize / 4]);
                }
                0xbf => r[d] = r[s],
                0xb7 => r[d] = imm,
                0x57 => r[d] &= imm,
                0x77 => r[d] >>= imm,
                0x55 => {
                    if r[d] != imm {
                        pc = (pc as i64 + i64::from(i.off)) as usize;
                    }
                }
                0x95 => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
        panic!("no exit");
    }

    const R: DeviceAccess = DeviceAccess::READ;
    const W: DeviceAccess = DeviceAccess::WRITE;
    const M: DeviceAccess = DeviceAccess::MKNOD;

    #[test]
    fn encoding() {
        // r2 = *(u32 *)(r1 + 4), as clang and bpftool print it: 61 12 04 00 00 00 00 00.
        let e = Insn::load_u32(2, 1, 4).encode();
        if cfg!(target_endian = "little") {
            assert_eq!(e, [0x61, 0x12, 4, 0, 0, 0, 0, 0]);
            assert_eq!(
                Insn::jne_imm(5, 229, 3).encode(),
                [0x55, 0x05, 3, 0, 229, 0, 0, 0]
            );
            assert_eq!(Insn::exit().encode(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
            assert_eq!(
                Insn::mov_imm(0, -1).encode(),
                [0xb7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
            );
        }
    }

    #[test]
    fn empty_list_denies_everything() {
        let p = device_program(&[]);
        assert_eq!(p.len(), 8);
        assert_eq!(run(&p, DEV_CHAR, R, 1, 3), 0);
    }

    #[test]
    fn rules_decide() {
        let p = device_program(&[
            DeviceRule::char(1, Some(3), DeviceAccess::RWM),
            DeviceRule::char(136, None, DeviceAccess::RW),
            DeviceRule::block(8, Some(0), R),
        ]);
        assert_eq!(run(&p, DEV_CHAR, R | W, 1, 3), 1);
        assert_eq!(run(&p, DEV_CHAR, M, 1, 3), 1);
        assert_eq!(run(&p, DEV_CHAR, R, 1, 5), 0, "zero is not listed");
        assert_eq!(run(&p, DEV_BLOCK, R, 1, 3), 0, "block 1:3 is not char 1:3");
        assert_eq!(run(&p, DEV_CHAR, R | W, 136, 7), 1);
        assert_eq!(run(&p, DEV_CHAR, M, 136, 7), 0, "no mknod of ptys");
        assert_eq!(run(&p, DEV_BLOCK, R, 8, 0), 1);
        assert_eq!(run(&p, DEV_BLOCK, R | W, 8, 0), 0, "read-only disk");
        assert_eq!(run(&p, DEV_BLOCK, R, 8, 1), 0);
    }

    #[test]
    fn all_rules() {
        let p = device_program(&[DeviceRule::all(M), DeviceRule::all(DeviceAccess::RWM)]);
        assert_eq!(run(&p, DEV_BLOCK, R | W, 8, 1), 1);
        let p = device_program(&[DeviceRule::all(M)]);
        assert_eq!(run(&p, DEV_CHAR, M, 4095, 0xfffff), 1);
        assert_eq!(run(&p, DEV_CHAR, R, 1, 3), 0);
        assert_eq!(run(&p, DEV_BLOCK, M | W, 8, 0), 0);
    }

    #[test]
    fn jumps_land_on_the_next_rule() {
        // Only the second rule matches: every check of the first must skip exactly its block.
        let p = device_program(&[
            DeviceRule::block(9, Some(9), R),
            DeviceRule::char(1, Some(3), R),
        ]);
        assert_eq!(run(&p, DEV_CHAR, R, 1, 3), 1);
        assert_eq!(run(&p, DEV_BLOCK, R, 9, 8), 0);
        for (i, insn) in p.iter().enumerate() {
            if insn.code == 0x55 {
                let to = i as i64 + 1 + i64::from(insn.off);
                assert!(to > i as i64 && (to as usize) < p.len());
            }
        }
    }
}
