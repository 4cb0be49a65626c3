//! The little of SQS the function calls: SendMessageBatch, in SQS's
//! awsJson1_0 protocol (`POST /`, `x-amz-target:
//! AmazonSQS.SendMessageBatch`). The event source answers it
//! (`runtime_api.rs`): what the function hands on or fans out to the work
//! queue goes on the queue the runs drain; what it dead-letters is counted.

use serde_json::{json, Value};

/// One entry of a SendMessageBatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub body: String,
    pub delay_seconds: u64,
}

/// A SendMessageBatch request: the queue URL and the entries.
pub fn parse_batch(body: &[u8]) -> Result<(String, Vec<Entry>), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let queue = v["QueueUrl"].as_str().ok_or("QueueUrl is missing")?;
    let entries = v["Entries"]
        .as_array()
        .ok_or("Entries is missing")?
        .iter()
        .map(|e| {
            Ok(Entry {
                id: e["Id"].as_str().ok_or("an entry has no Id")?.to_owned(),
                body: e["MessageBody"]
                    .as_str()
                    .ok_or("an entry has no MessageBody")?
                    .to_owned(),
                delay_seconds: e["DelaySeconds"].as_u64().unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    Ok((queue.to_owned(), entries))
}

/// The answer to a SendMessageBatch of which every entry was taken; `ids`
/// are the message ids given.
pub fn batch_answer(entries: &[Entry], ids: &[String]) -> Value {
    let ok: Vec<Value> = entries
        .iter()
        .zip(ids)
        .map(|(e, id)| json!({"Id": e.id, "MessageId": id, "MD5OfMessageBody": md5_hex(e.body.as_bytes())}))
        .collect();
    json!({"Successful": ok, "Failed": []})
}

/// An awsJson1_0 error body.
pub fn error(code: &str, message: &str) -> Value {
    json!({"__type": format!("com.amazonaws.sqs#{code}"), "message": message})
}

/// MD5 (RFC 1321), in hex: what SQS answers as `MD5OfMessageBody`. The
/// Rust SDK does not check it; other clients do.
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[(i / 16) * 4 + i % 4]);
            (a, d, c) = (d, c, b);
            b = b.wrapping_add(rotated);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter()
        .flat_map(|x| x.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc_1321() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn batches_parse_and_answer() {
        let (queue, entries) = parse_batch(
            br#"{"QueueUrl":"http://x/1/q","Entries":[{"Id":"0","MessageBody":"abc","DelaySeconds":2},{"Id":"1","MessageBody":"{}"}]}"#,
        )
        .unwrap();
        assert_eq!(queue, "http://x/1/q");
        assert_eq!(entries[0].delay_seconds, 2);
        assert_eq!(entries[1].delay_seconds, 0);
        let a = batch_answer(&entries, &["m0".into(), "m1".into()]);
        assert_eq!(
            a["Successful"][0]["MD5OfMessageBody"],
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(a["Successful"][1]["Id"], "1");
        assert!(parse_batch(b"{}").is_err());
    }
}
