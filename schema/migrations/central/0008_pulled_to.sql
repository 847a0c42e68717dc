-- How far each device has confirmed its pulls: the greatest `since` it sent (it holds every change
-- up to it). A change on a case that left the device's territories after this point was written
-- while the device still held the case, and is accepted (docs/PROTOCOL.md, "Work on a case that
-- left the device's territories"). 0: nothing confirmed yet.
ALTER TABLE devices ADD COLUMN pulled_to INTEGER NOT NULL DEFAULT 0;
-- The exits of one record, looked up when a change arrives on a case that has left the device.
CREATE INDEX scope_exits_by_record ON scope_exits(record_id, seq);
