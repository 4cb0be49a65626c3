//! `template.yaml` read as a deployment would read it: a resource's
//! properties with `!Ref` to a parameter and `!FindInMap` resolved to the
//! parameters' defaults, so that the local stack builds its queues and its
//! bucket from the one definition the deployment uses.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use yaml_serde::Value as Yaml;

use super::ROOT;

fn template() -> Result<Yaml> {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml"))?;
    Ok(yaml_serde::from_str(&text)?)
}

/// `Resources.<name>.Properties`, as JSON, with parameters at their
/// defaults. `!GetAtt` and `!Sub` stay as `{"GetAtt": …}` / `{"Sub": …}`:
/// the caller puts in what the local stack has in their place.
pub fn properties(resource: &str) -> Result<Value> {
    let doc = template()?;
    let props = &doc["Resources"][resource]["Properties"];
    if props.is_null() {
        bail!("template.yaml has no Resources.{resource}.Properties");
    }
    resolve(&doc, props)
}

fn resolve(doc: &Yaml, v: &Yaml) -> Result<Value> {
    Ok(match v {
        Yaml::Tagged(t) if t.tag == "Ref" => {
            let name = t.value.as_str().context("!Ref names a parameter")?;
            let default = &doc["Parameters"][name]["Default"];
            if default.is_null() {
                bail!("!Ref {name}: not a parameter with a default");
            }
            resolve(doc, default)?
        }
        Yaml::Tagged(t) if t.tag == "FindInMap" => {
            let args = t.value.as_sequence().context("!FindInMap takes a list")?;
            let keys = args
                .iter()
                .map(|a| match resolve(doc, a)? {
                    Value::String(s) => Ok(s),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(anyhow!("!FindInMap key {other}")),
                })
                .collect::<Result<Vec<_>>>()?;
            let [map, key, attr] = &keys[..] else {
                bail!("!FindInMap takes three keys: {keys:?}");
            };
            resolve(
                doc,
                &doc["Mappings"][map.as_str()][key.as_str()][attr.as_str()],
            )?
        }
        Yaml::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!').to_owned();
            serde_json::json!({ name: resolve(doc, &t.value)? })
        }
        Yaml::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let k = k.as_str().context("a string key")?.to_owned();
                out.insert(k, resolve(doc, v)?);
            }
            Value::Object(out)
        }
        Yaml::Sequence(s) => {
            Value::Array(s.iter().map(|v| resolve(doc, v)).collect::<Result<_>>()?)
        }
        other => serde_json::to_value(other)?,
    })
}

/// A property as the text an SQS attribute or an S3 setting takes.
pub fn text(v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(anyhow!("not a scalar: {other}")),
    }
}

/// Creates the queue `resource` defines, named `name`, with its
/// attributes (visibility timeout, retention, SSE) and, when it has one, its
/// redrive policy pointing at `dead_letter_arn`. Returns its URL and ARN.
pub async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    resource: &str,
    name: &str,
    dead_letter_arn: Option<&str>,
) -> Result<(String, String)> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let props = properties(resource)?;
    let mut create = sqs.create_queue().queue_name(name);
    for (key, attr) in [
        ("VisibilityTimeout", A::VisibilityTimeout),
        ("MessageRetentionPeriod", A::MessageRetentionPeriod),
        ("SqsManagedSseEnabled", A::SqsManagedSseEnabled),
    ] {
        if let Some(v) = props.get(key) {
            create = create.attributes(attr, text(v)?);
        }
    }
    if let Some(redrive) = props.get("RedrivePolicy") {
        let arn = dead_letter_arn
            .with_context(|| format!("{resource} has a RedrivePolicy: give its dead-letter ARN"))?;
        let policy = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": text(&redrive["maxReceiveCount"])?.parse::<u32>()?,
        });
        create = create.attributes(A::RedrivePolicy, policy.to_string());
    }
    let url = create.send().await?.queue_url.context("a queue URL")?;
    let arn = queue_arn(sqs, &url).await?;
    Ok((url, arn))
}

/// A queue's ARN, from its URL.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|mut a| a.remove(&A::QueueArn))
        .context("a queue ARN")
}
