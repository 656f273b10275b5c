# The Python hello function the harness deploys, and the plain baseline (bench/plain_python.py) runs.
def main(req, res):
    return res.send('hello')
