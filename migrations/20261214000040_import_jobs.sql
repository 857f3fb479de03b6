-- CSV imports run in the background (crier::web::csv_import): the Import page follows one through
-- its row here, which the import's worker writes twice a second (its stage and count, outside the
-- import's own transaction, whose rows nobody sees until it commits) and, at the end, its report.
-- A running import whose row has not been written for a while was stopped (its process ended): the
-- page says so. Finished rows are kept a week (pruned when the team starts another import).
create table import_job (
    job_id      uuid primary key,
    team_id     uuid not null references team (team_id) on delete cascade,
    user_id     uuid not null references app_user (user_id) on delete cascade,
    file_name   text not null,
    stage       text not null default 'waiting',
    done        integer not null default 0,
    total       integer not null default 0,
    -- The report (crier_domain::store::imports::ImportReport) once it ran, or why it could not.
    report      jsonb,
    failure     text,
    started_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    finished_at timestamptz,
    constraint import_job_file_name check (char_length(file_name) <= 200),
    constraint import_job_stage check (stage in ('waiting', 'checking', 'fetching', 'scheduling', 'finished')),
    constraint import_job_counts check (done between 0 and total),
    -- Finished exactly when it has an end and one of a report or a failure.
    constraint import_job_finished check (
        (stage = 'finished') = (finished_at is not null)
        and (finished_at is null) = (report is null and failure is null)
        and (report is null or failure is null)
    )
);

create index import_job_team on import_job (team_id, started_at);
