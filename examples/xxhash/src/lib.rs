//! xxhash64: XXH64 (https://github.com/Cyan4973/xxHash, seed 0) of the UTF-8 bytes of a text,
//! as a bigint: the unsigned 64-bit hash reinterpreted as signed (two's complement), so
//! 0xEF46DB3751D8E999, the hash of '', is -1205034819632174695.

const P1: u64 = 0x9E3779B185EBCA87;
const P2: u64 = 0xC2B2AE3D27D4EB4F;
const P3: u64 = 0x165667B19E3779F9;
const P4: u64 = 0x85EBCA77C2B2AE63;
const P5: u64 = 0x27D4EB2F165667C5;

fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
}

fn merge(acc: u64, v: u64) -> u64 {
    (acc ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

fn xxh64(b: &[u8]) -> u64 {
    let seed = 0u64;
    let mut i = 0;
    let mut h = if b.len() >= 32 {
        let mut v = [seed.wrapping_add(P1).wrapping_add(P2), seed.wrapping_add(P2), seed, seed.wrapping_sub(P1)];
        while i + 32 <= b.len() {
            for (k, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, u64_at(b, i + 8 * k));
            }
            i += 32;
        }
        let mut h = v[0].rotate_left(1).wrapping_add(v[1].rotate_left(7)).wrapping_add(v[2].rotate_left(12)).wrapping_add(v[3].rotate_left(18));
        for x in v {
            h = merge(h, x);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(b.len() as u64);
    while i + 8 <= b.len() {
        h = (h ^ round(0, u64_at(b, i))).rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= b.len() {
        let w = u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64;
        h = (h ^ w.wrapping_mul(P1)).rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < b.len() {
        h = (h ^ (b[i] as u64).wrapping_mul(P5)).rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

wasql::export! {
    #[sql = "IMMUTABLE PARALLEL SAFE"]
    fn xxhash64(data: &str) -> i64 {
        xxh64(data.as_bytes()) as i64
    }
}
