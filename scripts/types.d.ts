declare module "cli-progress";
