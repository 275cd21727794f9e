//! levenshtein: the edit distance between two strings (insertions, deletions and
//! substitutions of one character, each costing 1), counted in Unicode characters, as
//! PostgreSQL's fuzzystrmatch levenshtein(a, b) counts them. Strings over 10,000 characters
//! fail the row (the work is quadratic).

const MAX: usize = 10_000;

wasql::export! {
    #[sql = "IMMUTABLE PARALLEL SAFE"]
    fn levenshtein(a: &str, b: &str) -> Result<i32, String> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        if a.len() > MAX || b.len() > MAX {
            return Err(format!("argument exceeds the maximum length of {} characters", MAX));
        }
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        let mut cur = vec![0; b.len() + 1];
        for (i, ca) in a.iter().enumerate() {
            cur[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let sub = prev[j] + usize::from(ca != cb);
                cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        Ok(prev[b.len()] as i32)
    }
}
