// The Node hello function the harness deploys, and the plain baseline (bench/plain_node.js) runs.
module.exports = async (req, res) => res.send('hello');
