-- Positions of the quickstart: one row per position id.
create table positions (
  id text primary key,
  asset_id text not null,
  quantity numeric not null,
  updated_at timestamptz not null default now()
);
