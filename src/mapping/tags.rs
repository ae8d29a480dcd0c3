//! Ownership tags and tag reconciliation.

use std::collections::BTreeMap;

use crate::api::{ADOPT_ANNOTATION, CLUSTER_ID_TAG, OWNER_TAG, SPEC_HASH_TAG, Tag, UID_TAG};

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
    /// Left behind by an earlier object of the same namespace/name in this Kubernetes cluster
    /// (deleted with `deletionPolicy: Retain`, or its finalizer removed by hand).
    Retained { uid: String },
    /// Tagged by another object or another Kubernetes cluster; never touched.
    Foreign { owner: String },
}

/// What reconciling may do with an existing ECS object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// It is ours: manage it.
    Ours,
    /// Not ours yet, and the object asks for it: tag it as ours and manage it.
    Adopt,
}

/// Whether `ownership` lets this object manage `what` (say, "the ECS cluster web in eu-west-1");
/// the error is the OwnershipConflict message, saying what the user can do.
pub fn claim(ownership: Ownership, wants_adoption: bool, what: &str) -> Result<Claim, String> {
    match ownership {
        Ownership::Ours => Ok(Claim::Ours),
        Ownership::Unowned | Ownership::Retained { .. } if wants_adoption => Ok(Claim::Adopt),
        Ownership::Unowned => Err(format!(
            "{what} already exists and was not created by this object; annotate the object with \
             {ADOPT_ANNOTATION}=\"true\" to manage it"
        )),
        Ownership::Retained { uid } => Err(format!(
            "{what} was retained by an earlier object of this name (uid {uid}); annotate the object \
             with {ADOPT_ANNOTATION}=\"true\" to take it over"
        )),
        Ownership::Foreign { owner } => Err(format!("{what} belongs to {owner}; it is left alone")),
    }
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
            // Two live objects cannot share a namespace/name, so this one's predecessor left it.
            (Some(uid), Some(cluster))
                if *cluster == self.cluster_id && tags.get(OWNER_TAG) == Some(&self.owner) =>
            {
                Ownership::Retained { uid: uid.clone() }
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

    /// The keys set and removed, for events and diffs: "set team, env; removed owner".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            let keys: Vec<&str> = self.set.keys().map(String::as_str).collect();
            parts.push(format!("set {}", keys.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("removed {}", self.remove.join(", ")));
        }
        parts.join("; ")
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
            owner: "team/api".into(),
            uid: "u-2".into(),
            ..me()
        };
        assert!(matches!(
            me().judge(&other_object.tags()),
            Ownership::Foreign { .. }
        ));

        // The same namespace/name in this cluster with another uid: a retained predecessor.
        let predecessor = OwnerIdentity {
            uid: "u-0".into(),
            ..me()
        };
        assert_eq!(
            me().judge(&predecessor.tags()),
            Ownership::Retained { uid: "u-0".into() }
        );

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
    fn claims_need_the_annotation_for_anything_not_ours_and_never_take_a_foreign_object() {
        let what = "the ECS cluster web in eu-west-1";
        let retained = Ownership::Retained { uid: "u-0".into() };
        let foreign = Ownership::Foreign {
            owner: "team/api".into(),
        };
        assert_eq!(claim(Ownership::Ours, false, what), Ok(Claim::Ours));
        assert_eq!(claim(Ownership::Unowned, true, what), Ok(Claim::Adopt));
        assert_eq!(claim(retained.clone(), true, what), Ok(Claim::Adopt));

        let unowned = claim(Ownership::Unowned, false, what).unwrap_err();
        assert!(
            unowned.starts_with(what) && unowned.contains(ADOPT_ANNOTATION),
            "{unowned}"
        );
        let retained = claim(retained, false, what).unwrap_err();
        assert!(
            retained.contains("retained") && retained.contains("u-0"),
            "{retained}"
        );
        assert!(retained.contains(ADOPT_ANNOTATION), "{retained}");
        for adopt in [false, true] {
            let message = claim(foreign.clone(), adopt, what).unwrap_err();
            assert!(message.contains("belongs to team/api"), "{message}");
        }
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
