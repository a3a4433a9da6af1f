// Minimal typings for the parts of jstat (a CommonJS module without bundled types) that we use.
declare module "jstat" {
  interface JStatNormal {
    cdf(x: number, mean: number, std: number): number;
    inv(p: number, mean: number, std: number): number;
  }
  interface JStatStudentT {
    cdf(x: number, dof: number): number;
    inv(p: number, dof: number): number;
  }
  interface JStat {
    normal: JStatNormal;
    studentt: JStatStudentT;
  }
  const jStat: JStat;
  export default jStat;
}
