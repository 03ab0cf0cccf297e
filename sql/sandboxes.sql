/* @name resolveMergeTarget */
select app.resolve_merge_target(:sandboxId!, :targetId) as "target_id!";

/* @name mergePreview */
select action as "action!", name as "name!", item_count as "item_count!", byte_size as "byte_size!"
from app.merge_preview(:sandboxId!, :targetId!);

/* @name mergeSandbox */
select action as "action!", name as "name!", item_count as "item_count!", byte_size as "byte_size!"
from app.merge_sandbox(:sandboxId!, :targetId!, :actorId);
