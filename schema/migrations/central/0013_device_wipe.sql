-- Wipe on revocation (docs/SERVER.md, "Tokens: rotation and loss"; docs/PROTOCOL.md, "Errors").
-- wipe_ordered_at: when `device revoke --wipe` ordered the device to erase its replica (set once,
-- never cleared); wipe_delivered_at: when the centre first answered that device's token with
-- `401 revoked_wipe` — the order reached the device, which cannot confirm the erasure afterwards.
-- pending_changes / pending_reported_at: the last count of changes the device held and the centre
-- had not accepted (header Relais-Pending), and when it said so; NULL until it reports one.
ALTER TABLE devices ADD COLUMN wipe_ordered_at TEXT;
ALTER TABLE devices ADD COLUMN wipe_delivered_at TEXT;
ALTER TABLE devices ADD COLUMN pending_changes INTEGER;
ALTER TABLE devices ADD COLUMN pending_reported_at TEXT;
