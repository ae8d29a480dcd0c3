//! ECS's answer as JSON, as it came over the wire: what `ecs-operator import` turns into
//! manifests (and what adoption compares a spec with). The SDK's output types do not serialize;
//! the body they were read from does, and it is in memory once the SDK has read it.

use std::sync::{Arc, Mutex};

use aws_sdk_ecs::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use serde_json::Value;

/// An interceptor for one call that keeps the body of its (last) response.
#[derive(Clone, Debug, Default)]
pub struct RawJson {
    body: Arc<Mutex<Option<Vec<u8>>>>,
}

impl RawJson {
    /// The response body as JSON; None when there was none (or it was not JSON).
    pub fn json(&self) -> Option<Value> {
        let body = self.body.lock().expect("raw body poisoned");
        serde_json::from_slice(body.as_deref()?).ok()
    }
}

impl Intercept for RawJson {
    fn name(&self) -> &'static str {
        "RawJson"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(bytes) = context.response().body().bytes() {
            *self.body.lock().expect("raw body poisoned") = Some(bytes.to_vec());
        }
        Ok(())
    }
}
