// expect: {"status":["timeout","memory"]}
const spin = () => Promise.resolve().then(spin);
spin();
export default new Promise(() => {});
