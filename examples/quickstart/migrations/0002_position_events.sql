-- The outbox of PositionChanged events: a put writes its event here in the
-- same transaction as the position; the relay publishes the rows in order and
-- deletes them once the bus acknowledged them. A row the bus refuses for good
-- (too large, say) is set aside with `failed_at` and its error, for an
-- operator; the relay skips it.
create table position_events (
  seq bigserial primary key,
  event_id uuid not null unique,
  payload bytea not null,
  created_at timestamptz not null default now(),
  failed_at timestamptz,
  error text
);
