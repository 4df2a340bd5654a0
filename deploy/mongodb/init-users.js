// Runs once, when the MongoDB volume is first created (mongosh, as the root user): the
// application's user and the exporter's read-only monitoring user, passwords from the
// environment (.env) so none is written in the repository.
const admin = db.getSiblingDB("admin");
admin.createUser({
  user: process.env.MONGO_APP_USERNAME || "parivision",
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWriteAnyDatabase", db: "admin" }],
});
admin.createUser({
  user: "exporter",
  pwd: process.env.MONGO_EXPORTER_PASSWORD,
  roles: [
    { role: "clusterMonitor", db: "admin" },
    { role: "read", db: "local" },
  ],
});
