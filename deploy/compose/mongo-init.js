/* global db */
// Runs once, when the mongo container starts on an empty volume (docker-entrypoint-initdb.d),
// as the root user: creates the `parley` user that chat and notify connect as, with access to
// the parley database only.
db.getSiblingDB('parley').createUser({
  user: 'parley',
  pwd: process.env.MONGO_PARLEY_PASSWORD,
  roles: [{ role: 'readWrite', db: 'parley' }],
});
