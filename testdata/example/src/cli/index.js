module.exports = 'cli'
