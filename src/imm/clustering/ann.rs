//! The indexed run's approximate nearest-neighbour index: cross-polytope locality-sensitive
//! hashing (Andoni et al., 2015) over unit vectors, with multi-probe. Written here, with no
//! dependency, so that it is deterministic: the random directions come from a fixed seed and
//! buckets list items in the order they were put.
//!
//! Why hashing and not a graph (HNSW was tried first): face embeddings of distinct identities
//! are close to orthogonal in 128 dimensions, and a face's only near points are the few faces
//! of its own identity (cosine 0.6 to 0.8 against 0 ± 0.1 for the rest). A graph search has no
//! gradient to follow towards them and visits a growing share of the graph (50k faces took
//! 32 s, and missed 1% of pairs); hashing is made for exactly this gap.
//!
//! A *block* is [`BLOCK`] random directions; a vector's code in a block is the direction of
//! largest absolute projection, with its sign (one of `2 × BLOCK`), and the runner-up. A table
//! keys an item by the codes of [`PER_TABLE`] blocks; there are [`TABLES`] tables. A query
//! probes, in each table, the 16 keys made of each block's best or runner-up code.
//!
//! Chance that a query finds an item of cosine ρ in one table (simulated): 0.048 at ρ = 0.61
//! (a face and a cluster of one other face of its identity, noise 0.8), 0.135 at 0.75 (a face
//! and a grown cluster), 0.38 at 0.89 (two halves of one identity); so with 32 tables a face
//! misses a grown cluster of its identity 1% of the time, and two halves of one identity
//! practically never miss each other when new clusters merge. Random items: 1 in 65536 a probe.

/// Random directions a block.
const BLOCK: usize = 8;
/// Bits of one block's code (`2 × BLOCK` values).
const BITS: usize = 4;
/// Blocks keyed together in one table (65536 buckets a table).
const PER_TABLE: usize = 4;
/// Tables.
pub const TABLES: usize = 32;
const BLOCKS: usize = TABLES * PER_TABLE;
/// Bits of the sign sketch that filters candidates before their exact cosine.
const SKETCH: usize = 256;
/// Most differing sketch bits of a kept candidate. Two vectors of cosine ρ differ in each bit
/// with chance arccos(ρ)/π, so (binomial): of pairs at the threshold 0.5, 0.6% are lost; at
/// 0.61 (a face and a cluster of one other face of its identity), 0.003%; an unrelated vector
/// (128 ± 8 bits) passes 0.16% of the time. With 128 bits, 4% of unrelated ones passed, and at
/// a million faces their cosines were a third of the run.
const SKETCH_MAX: u32 = 104;
const BUCKETS: usize = 1 << (BITS * PER_TABLE);
/// No key: the item is not in the index.
const NONE: u16 = u16::MAX;

/// A vector's code in every block: the best direction (with sign) and the runner-up; and its
/// sign sketch.
#[derive(Debug, PartialEq)]
pub struct Code {
    best: [u8; BLOCKS],
    second: [u8; BLOCKS],
    sketch: Sketch,
}

/// Signs of a vector's projections on [`SKETCH`] directions.
pub type Sketch = [u64; SKETCH / 64];

impl Code {
    /// The vector's sign sketch.
    pub fn sketch(&self) -> Sketch {
        self.sketch
    }
}

/// Whether two sketches are near enough for their vectors to be compared exactly.
#[inline]
pub fn near(a: &Sketch, b: &Sketch) -> bool {
    let d: u32 = a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum();
    d <= SKETCH_MAX
}

/// The index: items (numbers chosen by the caller) under their keys.
pub struct Lsh {
    dim: usize,
    /// The [`ROWS`] unit directions, [`LANES`] at a time and transposed: for each group of
    /// `LANES` directions, for each of the `dim` coordinates, that coordinate of each of them.
    dirs: Vec<f32>,
    /// `TABLES × BUCKETS` buckets of items.
    buckets: Vec<Vec<u32>>,
    /// Each item's key in every table (`NONE` when it is not in the index).
    keys: Vec<u16>,
    /// Each item's sketch.
    sketches: Vec<Sketch>,
}

impl Lsh {
    /// An empty index for vectors of `dim` numbers; the directions come from `seed`.
    pub fn new(dim: usize, seed: u64) -> Lsh {
        let mut rng = super::synthetic::Rng::new(seed);
        let mut dirs = Vec::with_capacity(ROWS * dim);
        for _ in 0..ROWS {
            let v: Vec<f32> = (0..dim).map(|_| rng.gauss()).collect();
            dirs.extend(super::normalized(&v).unwrap_or_else(|| vec![0.0; dim]));
        }
        let mut t = vec![0f32; dirs.len()];
        for (r, row) in dirs.chunks_exact(dim).enumerate() {
            for (d, x) in row.iter().enumerate() {
                t[((r / LANES) * dim + d) * LANES + r % LANES] = *x;
            }
        }
        let dirs = t;
        Lsh {
            dim,
            dirs,
            buckets: vec![Vec::new(); TABLES * BUCKETS],
            keys: Vec::new(),
            sketches: Vec::new(),
        }
    }

    /// The projections of `vs` on every direction, [`ROWS`] a vector, one vector after
    /// another.
    fn project(&self, vs: &[&[f32]], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            unsafe { project_fma(&self.dirs, self.dim, vs, out, ROWS) };
            return;
        }
        project_plain(&self.dirs, self.dim, vs, out, ROWS);
    }

    /// The code of a vector of the index's dimension.
    pub fn code(&self, v: &[f32]) -> Code {
        let mut ys = [0f32; ROWS];
        self.project(&[v], &mut ys);
        code_of(&ys)
    }

    /// The sign sketch alone of a vector of the index's dimension (a ninth of a code's work).
    pub fn sketch(&self, v: &[f32]) -> Sketch {
        let mut ys = [0f32; SKETCH];
        let from = BLOCKS * BLOCK * self.dim;
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            unsafe { project_fma(&self.dirs[from..], self.dim, &[v], &mut ys, SKETCH) };
            return sketch_of(&ys);
        }
        project_plain(&self.dirs[from..], self.dim, &[v], &mut ys, SKETCH);
        sketch_of(&ys)
    }

    /// The codes of many vectors of the index's dimension: the same as [`Lsh::code`] of each,
    /// but each group of directions is read from memory once for the lot.
    pub fn codes(&self, vs: &[&[f32]]) -> Vec<Code> {
        let mut ys = vec![0f32; vs.len() * ROWS];
        self.project(vs, &mut ys);
        ys.chunks_exact(ROWS).map(code_of).collect()
    }

    /// Table `t`'s key; bit `i` of `alt` set: block `i` of the table takes its runner-up.
    fn key(c: &Code, t: usize, alt: usize) -> usize {
        let mut k = 0;
        for i in 0..PER_TABLE {
            let b = t * PER_TABLE + i;
            let v = if alt & (1 << i) != 0 {
                c.second[b]
            } else {
                c.best[b]
            };
            k |= (v as usize) << (BITS * i);
        }
        k
    }

    /// Puts `item` under `code`, moving it if it was in the index.
    pub fn put(&mut self, item: u32, code: &Code) {
        self.remove(item);
        let i = item as usize;
        for t in 0..TABLES {
            let k = Self::key(code, t, 0);
            self.buckets[t * BUCKETS + k].push(item);
            self.keys[i * TABLES + t] = k as u16;
        }
        self.sketches[i] = code.sketch;
    }

    /// Takes `item` out of the index.
    pub fn remove(&mut self, item: u32) {
        let i = item as usize;
        if self.keys.len() < (i + 1) * TABLES {
            self.keys.resize((i + 1) * TABLES, NONE);
            self.sketches.resize(i + 1, [0; SKETCH / 64]);
        }
        for t in 0..TABLES {
            let k = self.keys[i * TABLES + t];
            if k != NONE {
                self.buckets[t * BUCKETS + k as usize].retain(|&x| x != item);
                self.keys[i * TABLES + t] = NONE;
            }
        }
    }

    /// Every item in the index whose sketch is near `code`'s, in increasing order: a scan
    /// of the sketches, for a query the buckets found nothing for.
    pub fn near_all(&self, code: &Code, out: &mut Vec<u32>) {
        out.clear();
        for (i, s) in self.sketches.iter().enumerate() {
            if near(s, &code.sketch) && self.keys[i * TABLES] != NONE {
                out.push(i as u32);
            }
        }
    }

    /// The items in the buckets a query of `code` probes whose sketch is near the query's,
    /// each once, in increasing order.
    ///
    /// The buckets lie far apart in memory, so each probe would wait for a cache miss, two
    /// for a bucket with items and one more for each item's sketch. The probes are therefore
    /// made in three sweeps, each fetching ahead what the next one reads: the buckets, then
    /// their items, then the items' sketches.
    pub fn candidates(&self, code: &Code, out: &mut Vec<u32>) {
        out.clear();
        let mut probes = [0u32; PROBES];
        for t in 0..TABLES {
            for alt in 0..1 << PER_TABLE {
                probes[(t << PER_TABLE) | alt] = (t * BUCKETS + Self::key(code, t, alt)) as u32;
            }
        }
        for &p in &probes {
            prefetch(&self.buckets[p as usize]);
        }
        let mut full = 0;
        for k in 0..PROBES {
            let bucket = &self.buckets[probes[k] as usize];
            if !bucket.is_empty() {
                prefetch(bucket.as_ptr());
                probes[full] = probes[k];
                full += 1;
            }
        }
        for &p in &probes[..full] {
            for &item in &self.buckets[p as usize] {
                prefetch(&self.sketches[item as usize]);
                out.push(item);
            }
        }
        out.retain(|item| near(&self.sketches[*item as usize], &code.sketch));
        out.sort_unstable();
        out.dedup();
    }
}

/// Buckets one query probes.
const PROBES: usize = TABLES << PER_TABLE;

/// Asks the CPU to bring `at`'s cache line in, without waiting for it.
#[inline(always)]
pub fn prefetch<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it reads nothing and cannot fault, whatever the
    // address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Directions projected on: the blocks', then the sketch's.
const ROWS: usize = BLOCKS * BLOCK + SKETCH;
/// Directions projected on together: 8 registers of 8 lanes, which hold the sums while the
/// coordinates stream past.
const LANES: usize = 64;
const _: () = assert!((BLOCKS * BLOCK).is_multiple_of(LANES) && SKETCH.is_multiple_of(LANES));

/// A sketch from a vector's projections on the sketch's directions.
fn sketch_of(ys: &[f32]) -> Sketch {
    let mut s = [0; SKETCH / 64];
    for (k, y) in ys.iter().enumerate() {
        if *y < 0.0 {
            s[k / 64] |= 1 << (k % 64);
        }
    }
    s
}

/// A code from a vector's projections on every direction.
fn code_of(ys: &[f32]) -> Code {
    let mut c = Code {
        best: [0; BLOCKS],
        second: [0; BLOCKS],
        sketch: sketch_of(&ys[BLOCKS * BLOCK..]),
    };
    for b in 0..BLOCKS {
        let (mut first, mut next) = ((0u8, f32::NEG_INFINITY), (0u8, f32::NEG_INFINITY));
        for j in 0..BLOCK {
            let y = ys[b * BLOCK + j];
            let code = (j * 2 + usize::from(y < 0.0)) as u8;
            let a = y.abs();
            if a > first.1 {
                next = first;
                first = (code, a);
            } else if a > next.1 {
                next = (code, a);
            }
        }
        c.best[b] = first.0;
        c.second[b] = next.0;
    }
    c
}

/// `out[v × rows + r] = dirs[r] · vs[v]` (`dirs` holding `rows` directions), from the transposed directions, [`LANES`]
/// directions at a time: each coordinate of the vector is multiplied into `LANES` sums at
/// once, with fused multiply-adds (exact, so every machine gets the same codes).
#[inline(always)]
fn project_plain(dirs: &[f32], dim: usize, vs: &[&[f32]], out: &mut [f32], rows: usize) {
    for (g, block) in dirs.chunks_exact(dim * LANES).enumerate() {
        let (cols, _) = block.as_chunks::<LANES>();
        for (v, ys) in vs.iter().zip(out.chunks_exact_mut(rows)) {
            let mut acc = [0f32; LANES];
            for (x, col) in v.iter().zip(cols) {
                for (a, d) in acc.iter_mut().zip(col) {
                    *a = d.mul_add(*x, *a);
                }
            }
            ys[g * LANES..(g + 1) * LANES].copy_from_slice(&acc);
        }
    }
}

/// [`project_plain`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn project_fma(dirs: &[f32], dim: usize, vs: &[&[f32]], out: &mut [f32], rows: usize) {
    project_plain(dirs, dim, vs, out, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_many_vectors_are_their_codes_one_by_one() {
        let mut rng = super::super::synthetic::Rng::new(5);
        let idx = Lsh::new(128, 9);
        let vs: Vec<Vec<f32>> = (0..70)
            .map(|_| (0..128).map(|_| rng.gauss()).collect())
            .collect();
        let refs: Vec<&[f32]> = vs.iter().map(|v| v.as_slice()).collect();
        let many = idx.codes(&refs);
        assert_eq!(many.len(), vs.len());
        for (v, c) in vs.iter().zip(&many) {
            assert_eq!(*c, idx.code(v));
            assert_eq!(c.sketch(), idx.sketch(v));
        }
    }

    #[test]
    fn a_near_vector_finds_its_item_and_a_moved_item_leaves_its_old_place() {
        let mut rng = super::super::synthetic::Rng::new(3);
        let dim = 64;
        let mut idx = Lsh::new(dim, 1);
        let unit = |rng: &mut super::super::synthetic::Rng| {
            let v: Vec<f32> = (0..dim).map(|_| rng.gauss()).collect();
            super::super::normalized(&v).unwrap_or_default()
        };
        let pts: Vec<Vec<f32>> = (0..2000).map(|_| unit(&mut rng)).collect();
        for (i, p) in pts.iter().enumerate() {
            idx.put(i as u32, &idx.code(p));
        }
        let mut out = Vec::new();
        let mut found = 0;
        for (i, p) in pts.iter().enumerate().take(200) {
            // Cosine about 0.75 with the item.
            let n = unit(&mut rng);
            let q: Vec<f32> = p.iter().zip(&n).map(|(x, y)| x + 0.88 * y).collect();
            idx.candidates(&idx.code(&q), &mut out);
            found += usize::from(out.binary_search(&(i as u32)).is_ok());
        }
        assert!(found >= 190, "{found} of 200");
        idx.put(0, &idx.code(&pts[1]));
        idx.candidates(&idx.code(&pts[0]), &mut out);
        idx.remove(1);
        let mut again = Vec::new();
        idx.candidates(&idx.code(&pts[1]), &mut again);
        assert!(again.contains(&0) && !again.contains(&1));
    }
}
