-- The split topology's own databases (compose.yaml, profile split); the monolith leaves them empty.
CREATE DATABASE shop_payments OWNER shop;
CREATE DATABASE shop_notifications OWNER shop;
