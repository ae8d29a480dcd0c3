//! Ownership tags and tag reconciliation.

use std::collections::BTreeMap;

use crate::api::{CLUSTER_ID_TAG, OWNER_TAG, SPEC_HASH_TAG, Tag, UID_TAG};

/// Who a Kubernetes object is, as written into the tags of what it creates in ECS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerIdentity {
    /// `<namespace>/<name>`.
    pub owner: String,
    /// `metadata.uid` of the object.
    pub uid: String,
    /// uid of the kube-system namespace.
    pub cluster_id: String,
}

/// Whose an existing ECS object is, judged by its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Created (or adopted) by this very object.
    Ours,
    /// No ownership tags: created outside the operator.
    Unowned,
    /// Tagged by another object or another Kubernetes cluster; never touched.
    Foreign { owner: String },
}

impl OwnerIdentity {
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (OWNER_TAG.to_string(), self.owner.clone()),
            (UID_TAG.to_string(), self.uid.clone()),
            (CLUSTER_ID_TAG.to_string(), self.cluster_id.clone()),
        ])
    }

    pub fn judge(&self, tags: &BTreeMap<String, String>) -> Ownership {
        match (tags.get(UID_TAG), tags.get(CLUSTER_ID_TAG)) {
            (None, None) if !tags.contains_key(OWNER_TAG) => Ownership::Unowned,
            (Some(uid), Some(cluster)) if *uid == self.uid && *cluster == self.cluster_id => {
                Ownership::Ours
            }
            _ => Ownership::Foreign {
                owner: format!(
                    "{} (uid {}, cluster {})",
                    tags.get(OWNER_TAG).map_or("unknown", String::as_str),
                    tags.get(UID_TAG).map_or("unknown", String::as_str),
                    tags.get(CLUSTER_ID_TAG).map_or("unknown", String::as_str),
                ),
            },
        }
    }
}

/// The tags an ECS object should carry: the user's, then the operator's (which win).
pub fn desired_tags(spec_tags: &[Tag], identity: &OwnerIdentity) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = spec_tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    tags.extend(identity.tags());
    tags
}

/// What to tag and untag so that `current` becomes `desired`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl TagChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// Spec tags are authoritative: tags added behind the operator's back are removed, except the
/// `aws:` tags AWS manages and the spec-hash tag the operator itself keeps on revisions.
pub fn tag_changes(
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> TagChanges {
    let set = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = current
        .keys()
        .filter(|k| {
            !desired.contains_key(*k) && !k.starts_with("aws:") && k.as_str() != SPEC_HASH_TAG
        })
        .cloned()
        .collect();
    TagChanges { set, remove }
}

pub fn to_ecs(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_ecs::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn from_ecs(tags: &[aws_sdk_ecs::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> OwnerIdentity {
        OwnerIdentity {
            owner: "team/web".into(),
            uid: "u-1".into(),
            cluster_id: "c-1".into(),
        }
    }

    #[test]
    fn judges_ownership_by_uid_and_cluster() {
        assert_eq!(me().judge(&me().tags()), Ownership::Ours);
        assert_eq!(
            me().judge(&BTreeMap::from([("team".into(), "x".into())])),
            Ownership::Unowned
        );

        let other_object = OwnerIdentity {
            uid: "u-2".into(),
            ..me()
        };
        assert!(matches!(
            me().judge(&other_object.tags()),
            Ownership::Foreign { .. }
        ));

        // Same namespace/name and uid in another Kubernetes cluster is still someone else.
        let other_cluster = OwnerIdentity {
            cluster_id: "c-2".into(),
            ..me()
        };
        let Ownership::Foreign { owner } = me().judge(&other_cluster.tags()) else {
            panic!("not foreign")
        };
        assert!(
            owner.contains("team/web") && owner.contains("c-2"),
            "{owner}"
        );
    }

    #[test]
    fn a_partial_owner_tag_is_foreign_not_unowned() {
        let tags = BTreeMap::from([(OWNER_TAG.to_string(), "other/obj".to_string())]);
        assert!(matches!(me().judge(&tags), Ownership::Foreign { .. }));
    }

    #[test]
    fn operator_tags_win_over_spec_tags() {
        let spec = vec![Tag {
            key: "team".into(),
            value: "payments".into(),
        }];
        let tags = desired_tags(&spec, &me());
        assert_eq!(tags["team"], "payments");
        assert_eq!(tags[UID_TAG], "u-1");
        assert_eq!(tags.len(), 4);
    }

    #[test]
    fn tag_changes_add_change_and_remove_but_keep_aws_and_hash_tags() {
        let current = BTreeMap::from([
            ("keep".to_string(), "1".to_string()),
            ("change".to_string(), "old".to_string()),
            ("stray".to_string(), "x".to_string()),
            ("aws:cloudformation:stack-name".to_string(), "s".to_string()),
            (SPEC_HASH_TAG.to_string(), "abc".to_string()),
        ]);
        let desired = BTreeMap::from([
            ("keep".to_string(), "1".to_string()),
            ("change".to_string(), "new".to_string()),
            ("add".to_string(), "a".to_string()),
        ]);
        let changes = tag_changes(&current, &desired);
        assert_eq!(
            changes.set,
            BTreeMap::from([
                ("add".to_string(), "a".to_string()),
                ("change".to_string(), "new".to_string())
            ])
        );
        assert_eq!(changes.remove, vec!["stray".to_string()]);
        assert!(tag_changes(&desired, &desired).is_empty());
    }

    #[test]
    fn converts_to_and_from_ecs_tags() {
        let tags = me().tags();
        assert_eq!(from_ecs(&to_ecs(&tags)), tags);
    }
}
