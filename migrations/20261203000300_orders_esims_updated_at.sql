-- orders and esims: the statements that update a row (db::orders, db::esims, db::mail,
-- db::sealed) set updated_at themselves, as the jobs' do since 20261203000200, instead of a
-- PL/pgSQL trigger called on each of an order's five updates and its eSIM's three.
drop trigger orders_updated_at on orders;
drop trigger esims_updated_at on esims;
