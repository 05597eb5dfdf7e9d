-- The outbox of PositionChanged events: a put writes its event here in the
-- same transaction as the position; the relay publishes the rows in order and
-- deletes them once the bus acknowledged them.
create table position_events (
  seq bigserial primary key,
  event_id uuid not null unique,
  payload bytea not null,
  created_at timestamptz not null default now()
);
