//! slugify: a URL slug of a title. ASCII letters are lower-cased, digits kept, the common
//! Latin letters with diacritics folded to ASCII (é → e, ß → ss, æ → ae), and every run of
//! anything else becomes one '-', none at either end.

fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ą' => "a",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'Ď' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' => "i",
        'ł' | 'Ł' => "l",
        'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' => "o",
        'ř' | 'Ř' => "r",
        'ś' | 'š' | 'Ś' | 'Š' => "s",
        'ť' | 'Ť' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        _ => return None,
    })
}

wasql::export! {
    #[sql = "IMMUTABLE PARALLEL SAFE"]
    fn slugify(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut dash = false;
        for c in s.chars() {
            let piece = if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase().encode_utf8(&mut [0; 4]).to_string())
            } else {
                fold(c).map(str::to_string)
            };
            match piece {
                Some(p) => {
                    if dash && !out.is_empty() {
                        out.push('-');
                    }
                    out.push_str(&p);
                    dash = false;
                }
                None => dash = true,
            }
        }
        out
    }
}
