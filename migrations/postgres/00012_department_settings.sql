-- Departments get their own settings: a weekly schedule of opening hours (JSON: a time zone and,
-- per weekday, an opening and a closing time; empty means the department keeps its sites' hours)
-- and a queue timeout in seconds (0 means the site's queue timeout applies).

-- +goose Up
ALTER TABLE departments ADD COLUMN business_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE departments ADD COLUMN queue_timeout_seconds INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE departments DROP COLUMN queue_timeout_seconds;
ALTER TABLE departments DROP COLUMN business_hours;
