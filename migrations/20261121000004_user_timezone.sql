-- Each person sees times in their own timezone (IANA name), taken from the browser at sign-up and
-- changeable in Settings. Stored times stay UTC; this is only how they are shown and entered.
alter table app_user add column timezone text not null default 'UTC';
alter table app_user add constraint app_user_timezone_shape check (char_length(timezone) between 1 and 64);
