-- Webhook payloads name a delivery's media: each item the delivery sent (the library's id, the
-- platform's id for it, which part of an X thread and where in it). The function is the one of
-- 20261122000002_webhooks.sql with `media` added to the delivery events' data.
create or replace function webhook_enqueue() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from webhook_endpoint where enabled) then
        return null;
    end if;
    insert into webhook_call (team_id, endpoint_id, audit_id, event_type, payload)
    select e.team_id, w.endpoint_id, e.audit_id, e.event_type,
           jsonb_build_object(
               'id', 'evt_' || e.audit_id,
               'type', e.event_type,
               'created_at', to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', coalesce(case
                   -- The delivery row was written by the same statement as its event (and is
                   -- visible here: this runs when that statement has finished).
                   when e.entity = 'delivery' then (
                       select jsonb_strip_nulls(jsonb_build_object(
                           'delivery_id', d.delivery_id, 'post_id', d.post_id, 'account_id', d.account_id,
                           'platform', e.metadata ->> 'platform', 'attempt', e.metadata -> 'attempt',
                           'external_id', d.external_id, 'permalink', d.permalink,
                           -- What the delivery's media went out as (absent without media).
                           'media', (select jsonb_agg(jsonb_build_object(
                                         'media_id', m.media_id, 'platform_media_id', m.platform_media_id,
                                         'item', m.item, 'position', m.position) order by m.item, m.position)
                                     from delivery_media m where m.delivery_id = d.delivery_id),
                           'error', case when e.event_type <> 'delivery.published' then jsonb_strip_nulls(jsonb_build_object(
                               'class', d.last_error_class, 'code', d.last_error_code, 'message', d.last_error_message)) end))
                       from delivery d where d.delivery_id = e.entity_id::uuid and d.team_id = e.team_id)
                   when e.entity = 'account' then (
                       select jsonb_strip_nulls(jsonb_build_object(
                           'account_id', a.account_id, 'platform', a.platform, 'name', a.name, 'reason', a.status_detail))
                       from platform_account a where a.account_id = e.entity_id::uuid and a.team_id = e.team_id)
                   else jsonb_build_object('endpoint_id', w.endpoint_id, 'message', 'A test event from Crier.')
               end, jsonb_build_object(e.entity || '_id', e.entity_id)))
    from (
        select a.team_id, a.audit_id, a.occurred_at, a.entity, a.entity_id, a.metadata,
               case a.action
                   when 'delivery_published' then 'delivery.published'
                   when 'delivery_failed' then 'delivery.failed'
                   when 'delivery_held' then 'delivery.held'
                   when 'account_needs_reauth' then 'account.needs_reauth'
                   when 'webhook_test_sent' then 'ping'
               end as event_type
        from added a
        where a.action in ('delivery_published', 'delivery_failed', 'delivery_held', 'account_needs_reauth', 'webhook_test_sent')
    ) e
    join webhook_endpoint w on w.team_id = e.team_id and w.enabled
        and case when e.event_type = 'ping' then w.endpoint_id::text = e.entity_id else e.event_type = any (w.events) end;
    if found then
        -- Delivered on commit: idle dispatchers wake at once.
        perform pg_notify('crier_webhook_due', '');
    end if;
    return null;
end
$$;
