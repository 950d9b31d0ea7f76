-- A run that fails ends as `failed` with the error that stopped it (instead of staying
-- `running`); starting it again clears the error and continues from its cursor.
ALTER TABLE runs ADD COLUMN error TEXT;
