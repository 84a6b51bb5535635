ALTER TABLE webhook_messages ALTER COLUMN data SET COMPRESSION default;
