-- Telnyx joins the actors of order events (`domain::Actor`): what its webhooks and answers cause.
alter table order_events drop constraint order_events_actor_check;
alter table order_events
    add constraint order_events_actor_check check (actor in ('traveller', 'stripe', 'telnyx', 'system', 'admin'));
